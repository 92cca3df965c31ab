"""Validate one request row into an accepted request (which asset partition it needs) or a rejection.

Pure: the sensor supplies what the database knows (the catalogue's slugs, whether it exists yet).
"""

from __future__ import annotations

from dataclasses import dataclass

from mre_pipeline.ingestion.keys import (
    EventRef,
    InvalidKeyError,
    normalise_slug,
    normalise_source,
    parse_event_id,
    shown,
    track_partition_key,
)
from mre_pipeline.ingestion.sources import SourceRules
from mre_pipeline.warehouse.requests import REQUEST_TYPES, QueueRow

DISCOVER = "discover_events"
INGEST = "ingest_event"


@dataclass(frozen=True)
class Rejection:
    reason: str


@dataclass(frozen=True)
class Accepted:
    """A valid request: which asset partition it needs."""

    request_type: str
    source: str
    partition_key: str
    track_slug: str | None = None
    event: EventRef | None = None

    @property
    def event_id(self) -> int | None:
        return self.event.event_id if self.event else None


@dataclass(frozen=True)
class CatalogueView:
    """What the sensor knows about the track catalogue of the sources in a batch."""

    known_slugs: set[str]
    ready: bool = True  # False while the catalogue has never been fetched


def check_request(row: QueueRow, catalogue: CatalogueView) -> Accepted | Rejection:
    """Validate one row; every rejection reason tells the user what to fix, in one sentence."""
    if row.request_type not in REQUEST_TYPES:
        what = "is missing" if row.request_type is None else f"{shown(row.request_type)} is unknown"
        return Rejection(f"request_type {what}; use 'discover_events' or 'ingest_event'")
    try:
        rules = normalise_source(row.source)
        if row.request_type == DISCOVER and not rules.can_discover:
            return Rejection(
                f"{rules.label} has no track listing to discover; ask for an event with ingest_event"
            )
        if not rules.can_ingest:
            return Rejection(f"{rules.label} requests are not supported by this pipeline yet")
        slug = normalise_slug(row.track_slug) if rules.has_catalogue else None
        event_id = (
            parse_event_id(row.source_event_id, rules.example_event_id)
            if row.request_type == INGEST
            else None
        )
    except InvalidKeyError as exc:
        return Rejection(str(exc))
    if row.request_type == DISCOVER and _dates_reversed(row):
        return Rejection(
            f"held_between_end {row.held_between_end} is before held_between_start {row.held_between_start}"
        )
    if slug is not None:
        unknown = _unknown_track(rules, slug, catalogue)
        if unknown:
            return Rejection(unknown)
    if row.request_type == DISCOVER:
        assert slug is not None
        return Accepted(DISCOVER, rules.name, track_partition_key(rules.name, slug), slug)
    assert event_id is not None
    event = EventRef(rules.name, event_id, slug)
    return Accepted(INGEST, rules.name, event.partition_key, slug, event)


def _dates_reversed(row: QueueRow) -> bool:
    start, end = row.held_between_start, row.held_between_end
    return bool(start and end and end < start)


def _unknown_track(rules: SourceRules, slug: str, catalogue: CatalogueView) -> str | None:
    if not catalogue.ready:
        return (
            f"the {rules.label} track catalogue has not been fetched yet, so track {slug!r} cannot be "
            "checked; try again later"
        )
    if slug not in catalogue.known_slugs:
        return (
            f"track {slug!r} is not in the {rules.label} track catalogue; pick a slug from mre.tracks "
            "(the catalogue refreshes daily)"
        )
    return None
