"""The Everlaps connector: polite JSON fetching plus the payload parsers, returning source-neutral records.

An :class:`~mre_pipeline.connectors.base.EventSource` and nothing more: there is no track catalogue (the venue
is part of each event, ``EventDetail.venue``) and no entry list, the event id alone addresses an event
(``EventRef("everlaps", 3702)``), and a heat is addressed by its path in the results tree
(``RaceSummary.locator``). An event costs 2 requests plus one per heat (17 for event 3702).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from mre_pipeline.connectors.base import FetchStats
from mre_pipeline.connectors.errors import InvalidIdentifierError
from mre_pipeline.connectors.everlaps.config import EverlapsConfig
from mre_pipeline.connectors.everlaps.http import EverlapsHttpFetcher
from mre_pipeline.connectors.everlaps.payloads.common import Bad
from mre_pipeline.connectors.everlaps.payloads.event import parse_event, path_for_race_id, race_id_for_path
from mre_pipeline.connectors.everlaps.payloads.heat import parse_heat
from mre_pipeline.connectors.everlaps.payloads.venue import SOURCE
from mre_pipeline.connectors.everlaps.urls import EverlapsUrls, valid_id, valid_node_path
from mre_pipeline.connectors.records import EventDetail, EventRef, RaceResult, RaceSummary

T = TypeVar("T")


class JsonFetcher(Protocol):
    """What :class:`EverlapsSource` needs from a fetcher: POST an endpoint, get its decoded JSON."""

    stats: FetchStats

    def post_json(self, url: str) -> Any: ...


class EverlapsSource:
    """Fetch and parse Everlaps events. Every method raises only ConnectorError subclasses."""

    source = "everlaps"

    def __init__(self, config: EverlapsConfig | None = None, fetcher: JsonFetcher | None = None):
        self.config = config or EverlapsConfig.from_env()
        self.fetcher: JsonFetcher = fetcher or EverlapsHttpFetcher(self.config)
        self.urls = EverlapsUrls(self.config)

    @property
    def stats(self) -> FetchStats:
        return self.fetcher.stats

    def _timed(self, parse: Callable[[], T]) -> T:
        started = time.perf_counter()
        try:
            return parse()
        finally:
            self.stats.parse_seconds += time.perf_counter() - started

    def fetch_event(self, event: EventRef) -> EventDetail:
        """The event card and the results tree (two requests); the tree's heats are the races."""
        event_id = event_id_of(event)
        card_url = self.urls.event_card(event_id)
        tree_url = self.urls.results_tree(event_id)
        card = self.fetcher.post_json(card_url)
        tree = self.fetcher.post_json(tree_url)
        return self._timed(lambda: parse_event(card, tree, event_id, card_url=card_url, tree_url=tree_url))

    def fetch_race(self, event: EventRef, race: RaceSummary) -> RaceResult:
        """One heat by its path (``race.locator``, else the path packed in ``race.race_id``)."""
        url = self.urls.node(event_id_of(event), heat_path(race))
        payload = self.fetcher.post_json(url)
        return self._timed(lambda: parse_heat(payload, race, url=url))

    def fetch_entry_list(self, event: EventRef) -> None:
        """Everlaps publishes no entry list with driver rows to ingest: always None, no request."""
        event_id_of(event)
        return None


def event_ref(event_id: int) -> EventRef:
    """The reference of an Everlaps event: its id is enough (no track)."""
    return EventRef(SOURCE, event_id)


def event_id_of(event: EventRef) -> int:
    """The validated event id; a reference to another source's event is refused before any request."""
    if not isinstance(event, EventRef) or event.source != SOURCE:
        raise InvalidIdentifierError(f"{event!r} is not a reference to an Everlaps event")
    return valid_id(event.event_id, "an Everlaps event id")


def heat_path(race: RaceSummary) -> str:
    """The heat's tree path; a locator that disagrees with the race id is refused before any request."""
    race_id = valid_id(race.race_id, "an Everlaps race id")
    packed = path_for_race_id(race_id)
    if race.locator is None:
        return packed
    path = valid_node_path(race.locator)
    try:
        agrees = race_id_for_path(path) == race_id
    except Bad:
        agrees = False
    if not agrees:
        raise InvalidIdentifierError(f"race {race_id} does not belong to the Everlaps heat path {path!r}")
    return path
