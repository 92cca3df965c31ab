"""Decide what to do with one queue row. Pure: the sensor supplies what the database knows."""

from __future__ import annotations

from dataclasses import dataclass

from mre_pipeline.ingestion.keys import InvalidKeyError, event_partition_key, normalise_slug, parse_event_id
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
    track_slug: str
    partition_key: str
    event_id: int | None = None


def check_request(row: QueueRow, known_slugs: set[str]) -> Accepted | Rejection:
    """Validate one row; every rejection reason tells the user what to fix."""
    if row.request_type not in REQUEST_TYPES:
        return Rejection(
            f"unknown request_type {row.request_type!r}; use 'discover_events' or 'ingest_event'"
        )
    try:
        slug = normalise_slug(row.track_slug)
        event_id = parse_event_id(row.source_event_id) if row.request_type == INGEST else None
    except InvalidKeyError as exc:
        return Rejection(str(exc))
    if (
        row.request_type == DISCOVER
        and row.held_between_start
        and row.held_between_end
        and row.held_between_end < row.held_between_start
    ):
        return Rejection(
            f"held_between_end {row.held_between_end} is before held_between_start {row.held_between_start}"
        )
    if slug not in known_slugs:
        return Rejection(
            f"track {slug!r} is not in the LiveRC track catalogue; pick a slug from mre.tracks "
            "(the catalogue refreshes daily)"
        )
    if row.request_type == DISCOVER:
        return Accepted(DISCOVER, slug, slug)
    assert event_id is not None
    return Accepted(INGEST, slug, event_partition_key(slug, event_id), event_id)
