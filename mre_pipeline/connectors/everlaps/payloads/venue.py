"""The venue of an Everlaps event as a track-like record with a stable, collision-free slug.

Everlaps has no track catalogue: each event card names its venue (``location``), organiser and a Google
Maps link with the coordinates. The slug is derived from those coordinates rounded to 3 decimals (about
110 m north-south, 85 m east-west in Spain), so every event at one circuit lands on one track row:

    38.9694506,-5.8681566  ->  everlaps-n38969-w005868

Hemisphere letters replace signs and dots; widths are fixed so the key is unambiguous. Without coordinates
the slug falls back to the venue name folded to ASCII (``everlaps-venue-circuito-ciudad-de-don-benito``),
and without a name to the event (``everlaps-event-3702``). The ``everlaps-`` prefix keeps these keys apart
from LiveRC slugs in any place that holds a slug without its source (partition keys, request rows), and
every form matches the warehouse slug rule ``^[a-z0-9][a-z0-9-]*$`` within 63 characters.
"""

from __future__ import annotations

import re
import unicodedata

from mre_pipeline.connectors.records import TrackRecord

SOURCE = "everlaps"
PREFIX = "everlaps-"
MAX_SLUG = 63
# A "lat,lng" pair in decimal degrees, as Google Maps links print it (",", or "%2C" when encoded).
_PAIR = re.compile(
    r"(?<![\w.])(-?\d{1,3}\.\d+)\s*(?:,|%2C)\s*(-?\d{1,3}\.\d+)(?![\d])", re.ASCII | re.IGNORECASE
)


def coordinates(map_link: str | None) -> tuple[float, float] | None:
    """The first plausible latitude/longitude pair in a map link, as published; None when there is none."""
    if not map_link:
        return None
    for match in _PAIR.finditer(map_link):
        latitude, longitude = float(match.group(1)), float(match.group(2))
        if -90 <= latitude <= 90 and -180 <= longitude <= 180:
            return latitude, longitude
    return None


def coordinate_slug(latitude: float, longitude: float) -> str:
    lat = round(latitude * 1000)
    lng = round(longitude * 1000)
    north = "n" if lat >= 0 else "s"
    east = "e" if lng >= 0 else "w"
    return f"{PREFIX}{north}{abs(lat):05d}-{east}{abs(lng):06d}"


def name_slug(name: str | None) -> str | None:
    """``everlaps-venue-<name folded to ASCII>``, or None when nothing of the name survives folding."""
    if not name:
        return None
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    words = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")
    if not words:
        return None
    stem = f"{PREFIX}venue-"
    return stem + words[: MAX_SLUG - len(stem)].rstrip("-")


def venue_slug(latitude: float | None, longitude: float | None, name: str | None, event_id: int) -> str:
    if latitude is not None and longitude is not None:
        return coordinate_slug(latitude, longitude)
    return name_slug(name) or f"{PREFIX}event-{event_id}"


def venue_record(event_id: int, name: str | None, organiser: str | None, map_link: str | None) -> TrackRecord:
    """The event's venue. ``activity`` is ``idle``: Everlaps publishes no live status for a venue."""
    found = coordinates(map_link)
    latitude, longitude = found if found else (None, None)
    return TrackRecord(
        source=SOURCE,
        slug=venue_slug(latitude, longitude, name, event_id),
        name=name or f"Venue of Everlaps event {event_id}",
        activity="idle",
        organiser=organiser,
        latitude=latitude,
        longitude=longitude,
    )
