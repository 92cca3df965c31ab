"""The connector interface the ingestion layer depends on, as capabilities a source implements or not.

Every source is an :class:`EventSource`; a source with a track catalogue (LiveRC) is also a
:class:`TrackCatalogue` and an :class:`EventDiscovery`. Ingestion asks only for the capability it uses, so a
source without a catalogue (Everlaps) implements one protocol and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from mre_pipeline.connectors.records import (
    EntryList,
    EventDetail,
    EventRef,
    EventSummary,
    RaceResult,
    RaceSummary,
    TrackRecord,
)


@dataclass
class FetchStats:
    """Counters a connector keeps so callers can report politeness versus work."""

    requests: int = 0
    retries: int = 0
    bytes_received: int = 0
    wait_seconds: float = 0.0  # time slept for politeness (min interval, backoff, Retry-After)
    fetch_seconds: float = 0.0  # time spent in HTTP round trips
    parse_seconds: float = 0.0

    def snapshot(self) -> dict[str, float | int]:
        return {
            "requests": self.requests,
            "retries": self.retries,
            "bytes_received": self.bytes_received,
            "wait_seconds": round(self.wait_seconds, 3),
            "fetch_seconds": round(self.fetch_seconds, 3),
            "parse_seconds": round(self.parse_seconds, 3),
        }


@runtime_checkable
class EventSource(Protocol):
    """What every source offers ingestion: one event completely, addressed by a source-neutral reference.

    All methods raise only ConnectorError subclasses (:class:`NoSuchEventError` when the source says the event
    does not exist). ``fetch_race`` takes the race summary ``fetch_event`` returned, so a source can address a
    race by whatever it needs (LiveRC: the race id; Everlaps: the heat's path in ``RaceSummary.locator``).
    """

    source: str  # the name ingestion_requests.source and partition keys use ("liverc", "everlaps")
    stats: FetchStats

    def fetch_event(self, event: EventRef) -> EventDetail: ...

    def fetch_race(self, event: EventRef, race: RaceSummary) -> RaceResult: ...

    def fetch_entry_list(self, event: EventRef) -> EntryList | None:
        """The event's entry list, or None when the source has none (404, an empty page, or never)."""
        ...


@runtime_checkable
class TrackCatalogue(Protocol):
    """Sources that publish a list of every track (LiveRC); their events live under a catalogue track."""

    source: str
    stats: FetchStats

    def fetch_catalogue(self) -> list[TrackRecord]: ...


@runtime_checkable
class EventDiscovery(Protocol):
    """Sources that list a track's events, so they can be discovered before anyone asks for one (LiveRC)."""

    source: str
    stats: FetchStats

    def fetch_track_events(self, track_slug: str) -> list[EventSummary]: ...
