"""The connector interface the ingestion layer depends on; each source implements it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from mre_pipeline.connectors.records import EntryList, EventDetail, EventSummary, RaceResult, TrackRecord


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
class RaceDataSource(Protocol):
    """What ingestion needs from a timing source. All methods raise only ConnectorError subclasses."""

    source: str
    stats: FetchStats

    def fetch_catalogue(self) -> list[TrackRecord]: ...

    def fetch_track_events(self, track_slug: str) -> list[EventSummary]: ...

    def fetch_event(self, track_slug: str, event_id: int) -> EventDetail: ...

    def fetch_race(self, track_slug: str, race_id: int) -> RaceResult: ...

    def fetch_entry_list(self, track_slug: str, event_id: int) -> EntryList | None:
        """The event's entry list, or None when the source has none (404 or an empty page)."""
        ...
