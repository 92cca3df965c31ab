"""LiveRC as a source: an EventSource, a TrackCatalogue and an EventDiscovery (``connectors/base.py``), made of
polite fetching plus the page parsers. Every event URL is built from the event's track slug and id."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from mre_pipeline.connectors.base import FetchStats
from mre_pipeline.connectors.errors import ImplausibleRecordError, InvalidIdentifierError, SourceHttpError
from mre_pipeline.connectors.http import PoliteHttpClient
from mre_pipeline.connectors.liverc.config import LiveRCConfig
from mre_pipeline.connectors.liverc.pages.catalogue import parse_catalogue
from mre_pipeline.connectors.liverc.pages.entry_list import parse_entry_list
from mre_pipeline.connectors.liverc.pages.event import parse_event
from mre_pipeline.connectors.liverc.pages.events import parse_events
from mre_pipeline.connectors.liverc.pages.race import parse_race
from mre_pipeline.connectors.liverc.snapshot import PageFetcher
from mre_pipeline.connectors.liverc.urls import LiveRCUrls, valid_slug
from mre_pipeline.connectors.records import (
    EntryList,
    EventDetail,
    EventRef,
    EventSummary,
    RaceResult,
    RaceSummary,
    TrackRecord,
)

T = TypeVar("T")


class LiveRCSource:
    """Fetch and parse LiveRC pages. Every method raises only ConnectorError subclasses."""

    source = "liverc"

    def __init__(self, config: LiveRCConfig | None = None, client: PageFetcher | None = None):
        self.config = config or LiveRCConfig.from_env()
        self.client: PageFetcher = client or PoliteHttpClient(self.config)
        self.urls = LiveRCUrls(self.config)

    @property
    def stats(self) -> FetchStats:
        return self.client.stats

    def _fetch(self, url: str) -> str:
        text = self.client.get_text(url)
        if text is None:  # only with not_found_ok
            raise SourceHttpError(url, 404)
        return text

    def _parse(self, parser: Callable[..., T], *args: object, url: str) -> T:
        text = self._fetch(url)
        started = time.perf_counter()
        try:
            return parser(text, *args, url=url)
        finally:
            self.stats.parse_seconds += time.perf_counter() - started

    def fetch_catalogue(self) -> list[TrackRecord]:
        return self._parse(parse_catalogue, url=self.urls.catalogue())

    def fetch_track_events(self, track_slug: str) -> list[EventSummary]:
        return self._parse(parse_events, valid_slug(track_slug), url=self.urls.events(track_slug))

    def fetch_event(self, event: EventRef) -> EventDetail:
        slug, event_id = track_of(event), event.event_id
        return self._parse(parse_event, slug, event_id, url=self.urls.event(slug, event_id))

    def fetch_race(self, event: EventRef, race: RaceSummary) -> RaceResult:
        """The race page of a race the event page listed; it must be that race (same number and round)."""
        slug = track_of(event)
        result = self.fetch_race_page(slug, race.race_id)
        _check_listed_race(result, race, self.urls.race(slug, race.race_id))
        return result

    def fetch_race_page(self, track_slug: str, race_id: int) -> RaceResult:
        """A race page by its id alone (LiveRC addresses races by id under their track)."""
        return self._parse(parse_race, race_id, url=self.urls.race(track_slug, race_id))

    def fetch_entry_list(self, event: EventRef) -> EntryList | None:
        slug, event_id = track_of(event), event.event_id
        url = self.urls.entry_list(slug, event_id)
        text = self.client.get_text(url, not_found_ok=True)
        if text is None:
            return None
        started = time.perf_counter()
        try:
            entries = parse_entry_list(text, event_id, url=url)
        finally:
            self.stats.parse_seconds += time.perf_counter() - started
        return entries if entries.entries else None


def event_ref(track_slug: str, event_id: int) -> EventRef:
    """The reference of a LiveRC event: its track's slug and its id."""
    return EventRef(LiveRCSource.source, event_id, track_slug)


def track_of(event: EventRef) -> str:
    """The event's track slug, validated; a LiveRC event always has one, and another source's is refused."""
    if not isinstance(event, EventRef) or event.source != LiveRCSource.source:
        raise InvalidIdentifierError(f"{event!r} is not a reference to a LiveRC event")
    if event.track_slug is None:
        raise InvalidIdentifierError(f"LiveRC event {event.event_id} needs its track slug")
    return valid_slug(event.track_slug)


def _check_listed_race(page: RaceResult, listed: RaceSummary, url: str) -> None:
    """LiveRC shows a race's number and round on both pages; a page that disagrees is another race."""
    if page.race_number is not None and page.race_number != listed.race_number:
        problem = f"it says race {page.race_number} where the event page says race {listed.race_number}"
    elif page.round_label and listed.section and _norm(page.round_label) != _norm(listed.section):
        problem = f"it says round {page.round_label!r} where the event page says {listed.section!r}"
    else:
        return
    raise ImplausibleRecordError("race", url, problem, race_id=page.race_id)


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()
