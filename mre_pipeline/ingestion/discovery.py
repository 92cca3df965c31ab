"""Discover one track's events (metadata only, depth ``none``); never downgrades an ingested event."""

from __future__ import annotations

import time
from datetime import date

import sqlalchemy as sa

from mre_pipeline.connectors.base import EventDiscovery
from mre_pipeline.ingestion.reports import StepReport
from mre_pipeline.warehouse.events import events_held_between, upsert_event_summaries


def discover_track_events(
    source: EventDiscovery,
    engine: sa.Engine,
    track_slug: str,
    held_between: tuple[date | None, date | None] | None = None,
) -> StepReport:
    started = time.monotonic()
    events = source.fetch_track_events(track_slug)
    with engine.begin() as conn:
        written = upsert_event_summaries(conn, source.source, track_slug, events)
        in_range = None
        if held_between and any(held_between):
            in_range = len(events_held_between(conn, source.source, track_slug, *held_between))
    report = StepReport(
        counts={
            "events_seen": written.seen,
            "events_new": written.new,
            "events_updated": written.updated,
            "first_event_date": written.first_date.isoformat() if written.first_date else None,
            "last_event_date": written.last_date.isoformat() if written.last_date else None,
        },
        fetch={**source.stats.snapshot(), "elapsed_seconds": round(time.monotonic() - started, 3)},
    )
    span = f" from {written.first_date} to {written.last_date}" if written.first_date else ""
    report.detail = f"{written.seen} events{span} ({written.new} new)"
    if in_range is not None:
        start, end = held_between or (None, None)
        report.counts["events_in_requested_range"] = in_range
        report.detail += f"; {in_range} held between {start or 'the start'} and {end or 'now'}"
    if not events:
        report.warnings.append(f"the events listing of {track_slug!r} is empty")
    return report
