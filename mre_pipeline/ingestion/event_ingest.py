"""Ingest one event completely: fetch everything, validate everything, then write it in one transaction.

No network I/O happens while the transaction (and the event's advisory lock) is held. A race page that is
missing or does not parse fails the whole event and writes nothing; a missing entry list only warns.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import sqlalchemy as sa

from mre_pipeline.connectors.base import RaceDataSource
from mre_pipeline.connectors.errors import ConnectorError, SourceHttpError
from mre_pipeline.connectors.records import EntryList, EventDetail, RaceResult
from mre_pipeline.ingestion.reports import StepReport
from mre_pipeline.ingestion.validation import validate_event
from mre_pipeline.warehouse import checks
from mre_pipeline.warehouse.event_results import write_event


class EventIngestError(RuntimeError):
    """The event cannot be ingested; the message is written to the request for the user."""


class EventNotFoundError(EventIngestError):
    """The source says the event does not exist (404/410 for the event page)."""


class IntegrityCheckError(EventIngestError):
    """A post-write integrity check failed; the transaction was rolled back."""

    def __init__(self, check_name: str, message: str):
        super().__init__(f"integrity check {check_name} failed: {message}")
        self.check_name = check_name


CHECK_LAP_COUNTS = "result_lap_counts_match_laps"
CHECK_LAPS_WELL_FORMED = "laps_numbered_and_within_field"

# Called inside the write transaction after the checks pass, with the one-line outcome for the user
# (the asset settles its requests there, so data and request status become visible together).
OnCommit = Callable[[sa.Connection, str], None]


def fetch_event(
    source: RaceDataSource, track_slug: str, event_id: int
) -> tuple[EventDetail, list[RaceResult], EntryList | None, list[str]]:
    """Fetch the event page, every race it lists and the entry list; raise on any missing race."""
    warnings: list[str] = []
    try:
        detail = source.fetch_event(track_slug, event_id)
    except SourceHttpError as exc:
        if exc.status in (404, 410):
            raise EventNotFoundError(
                f"event {event_id} does not exist at {track_slug} (the event page {exc.url} answered "
                f"HTTP {exc.status}); check the event id"
            ) from exc
        raise EventIngestError(f"event {event_id} page could not be used: {exc}") from exc
    except ConnectorError as exc:
        raise EventIngestError(f"event {event_id} page could not be used: {exc}") from exc
    if not detail.races:
        raise EventIngestError(
            f"event {event_id} ({detail.name}) lists no race results yet; nothing to ingest"
        )
    races: list[RaceResult] = []
    for summary in detail.races:
        try:
            races.append(source.fetch_race(track_slug, summary.race_id))
        except ConnectorError as exc:
            raise EventIngestError(
                f"race {summary.race_id} ({summary.section}, Race {summary.race_number}: "
                f"{summary.session_label}) could not be used, so nothing was written: {exc}"
            ) from exc
    entry_list: EntryList | None = None
    try:
        entry_list = source.fetch_entry_list(track_slug, event_id)
    except ConnectorError as exc:
        warnings.append(f"entry list not ingested: {exc}")
    else:
        if entry_list is None or not entry_list.entries:
            warnings.append("event has no entry list (missing or empty); ingested without entries")
            entry_list = None
    return detail, races, entry_list, warnings


def ingest_event(
    source: RaceDataSource,
    engine: sa.Engine,
    track_slug: str,
    event_id: int,
    on_commit: OnCommit | None = None,
) -> StepReport:
    started = time.monotonic()
    detail, races, entry_list, warnings = fetch_event(source, track_slug, event_id)
    validate_event(detail, races)
    n_results = sum(len(r.drivers) for r in races)
    n_laps = sum(len(d.laps) for r in races for d in r.drivers)
    outcome = f"ingested {len(races)} races, {n_results} results, {n_laps} laps"
    if warnings:
        outcome += f" ({'; '.join(warnings)})"
    write_started = time.monotonic()
    with engine.begin() as conn:
        written = write_event(conn, detail, races, entry_list)
        bad_counts = checks.results_with_wrong_lap_count(conn, written.event_pk)
        if bad_counts:
            first = bad_counts[0]
            raise IntegrityCheckError(
                CHECK_LAP_COUNTS,
                f"race {first.source_race_id}, driver {first.name}: {first.laps_completed} laps "
                f"but {first.lap_rows} lap rows ({len(bad_counts)} result(s) affected)",
            )
        bad_laps = checks.results_with_bad_laps(conn, written.event_pk)
        if bad_laps:
            first = bad_laps[0]
            raise IntegrityCheckError(
                CHECK_LAPS_WELL_FORMED,
                f"race {first.source_race_id}, driver {first.name}: {first.lap_rows} laps numbered up to "
                f"{first.last_lap}, worst position {first.worst_position} of {first.drivers} drivers",
            )
        race_rows = checks.race_summaries(conn, written.event_pk)
        if on_commit is not None:
            on_commit(conn, outcome)
    write_seconds = time.monotonic() - write_started

    report = StepReport(
        counts={
            "races": len(races),
            "results": n_results,
            "laps": n_laps,
            "drivers": len({d.driver_id for r in races for d in r.drivers}),
            "entries": len(entry_list.entries) if entry_list else 0,
            "changes": written.as_dict(),
        },
        fetch={
            **source.stats.snapshot(),
            "write_seconds": round(write_seconds, 3),
            "elapsed_seconds": round(time.monotonic() - started, 3),
        },
        warnings=warnings,
    )
    report.summary_markdown = _markdown(detail, race_rows, report)
    report.detail = outcome
    return report


def _markdown(detail: EventDetail, race_rows: list[sa.Row], report: StepReport) -> str:
    dates = f"{detail.start_date}" + (
        f" to {detail.end_date}" if detail.end_date and detail.end_date != detail.start_date else ""
    )
    lines = [
        f"**{detail.name}** ({detail.track_slug}, event {detail.event_id}, {dates})",
        "",
        f"{report.counts['races']} races, {report.counts['drivers']} drivers, "
        f"{report.counts['results']} results, {report.counts['laps']} laps",
        "",
        "| race | section | session | drivers | laps | winner |",
        "|---|---|---|---|---|---|",
    ]
    for r in race_rows:
        winner = r.winner or "-"
        if r.winner and r.winner_time_s is not None:
            winner += f" ({r.winner_laps}/{float(r.winner_time_s):.3f} s)"
        lines.append(
            f"| {r.source_race_id} | {r.section} | Race {r.race_number}: {r.session_label} | {r.drivers} "
            f"| {r.laps} | {winner} |"
        )
    for warning in report.warnings:
        lines.append(f"\n> warning: {warning}")
    return "\n".join(lines)
