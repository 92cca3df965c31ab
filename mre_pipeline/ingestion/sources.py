"""What each timing source can do, as far as the request rules care. A new source is one entry here.

LiveRC has a track catalogue (events live under a known track slug, and a track's events can be
discovered); Everlaps has none (an event id is enough, its venue arrives with the event).
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_SOURCE = "liverc"


@dataclass(frozen=True)
class SourceRules:
    name: str  # the value of ingestion_requests.source and the first part of partition keys
    label: str  # how users know it
    has_catalogue: bool  # events belong to a catalogue track: track_slug required and checked
    can_discover: bool  # discover_events is possible
    can_ingest: bool  # ingest_event is wired to a connector
    example_event_id: str


SOURCES: dict[str, SourceRules] = {
    "liverc": SourceRules("liverc", "LiveRC", True, True, True, "486677"),
    "everlaps": SourceRules("everlaps", "Everlaps", False, False, True, "3702"),
}


def rules_for(name: str) -> SourceRules | None:
    return SOURCES.get(name)
