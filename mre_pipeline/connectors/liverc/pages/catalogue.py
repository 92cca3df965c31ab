"""Track catalogue, ``https://live.liverc.com/``: every track row of ``table.track_list``."""

from __future__ import annotations

import re

from mre_pipeline.connectors.liverc.pages.common import Missing, guarded, require, soup_of
from mre_pipeline.connectors.liverc.values import clean
from mre_pipeline.connectors.records import TrackRecord

_SLUG = re.compile(r"^(?:https?:)?//([^./]+)\.liverc\.com(?:/|$)", re.I)
SOURCE = "liverc"


@guarded("catalogue")
def parse_catalogue(html: str | bytes, *, url: str | None = None) -> list[TrackRecord]:
    soup = soup_of(html)
    table = require(soup.select_one("table.track_list"), "table.track_list")
    tracks: dict[str, TrackRecord] = {}
    for row in table.select("tbody > tr"):
        cells = row.find_all("td", recursive=False)
        if len(cells) < 2:
            raise Missing(f"catalogue row with {len(cells)} cells")
        status, name_cell = cells[0], cells[1]
        link = require(name_cell.find("a", href=True), "track link in catalogue row")
        match = _SLUG.match(link["href"].strip())
        if not match:
            raise Missing(f"track slug in link {link['href']!r}")
        slug = match.group(1).lower()
        name = clean((link.find("strong") or link).get_text())
        if not name:
            raise Missing(f"name of track {slug}")
        icons = " ".join(" ".join(i.get("class") or []) for i in status.find_all("i"))
        if "status_2" in icons:
            activity = "racing"
        elif "status_1" in icons:
            activity = "practice"
        else:
            activity = "idle"
        indent = name_cell.select_one("div.indent")
        smalls = status.select("small small") or status.select("small")
        tracks.setdefault(
            slug,
            TrackRecord(
                source=SOURCE,
                slug=slug,
                name=name,
                activity=activity,
                has_live_video="status_video_1" in icons,
                featured="status_featured" in icons,
                current_event_name=clean(indent.get_text()) or None if indent is not None else None,
                last_activity_text=clean(smalls[-1].get_text()) or None if smalls else None,
            ),
        )
    if not tracks:
        raise Missing("track rows (the catalogue table is empty)")
    return list(tracks.values())
