"""Ingest one event completely: fetch everything, validate everything, then write it in one transaction.

The same steps for every source, through :class:`~mre_pipeline.connectors.base.EventSource` and an
:class:`~mre_pipeline.connectors.records.EventRef`. No network I/O happens while the transaction (and the
event's advisory lock) is held. A race that is missing or does not parse fails the whole event and writes
nothing; a missing entry list only warns.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from mre_pipeline.connectors.base import EventSource
from mre_pipeline.connectors.errors import ConnectorError, NoSuchEventError, SourceHttpError
from mre_pipeline.connectors.records import EntryList, EventDetail, EventRef, RaceResult, RaceSummary
from mre_pipeline.ingestion.reports import StepReport
from mre_pipeline.ingestion.sources import rules_for
from mre_pipeline.ingestion.validation import validate_event
from mre_pipeline.warehouse import checks
from mre_pipeline.warehouse.event_results import write_event


class EventIngestError(RuntimeError):
    """The event cannot be ingested; the message is written to the request for the user."""


class EventNotFoundError(EventIngestError):
    """The source says the event does not exist (404/410 for the event, or its own way of saying so)."""


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


@dataclass(frozen=True)
class FetchedEvent:
    """Everything fetched for one event, before validation."""

    detail: EventDetail
    races: list[RaceResult]
    entry_list: EntryList | None
    warnings: list[str]


def fetch_event(source: EventSource, event: EventRef) -> FetchedEvent:
    """Fetch the event, every race it lists and the entry list; raise on any missing race."""
    detail = _fetch_detail(source, event)
    if not detail.races:
        raise EventIngestError(
            f"event {event.event_id} ({detail.name}) lists no race results yet; nothing to ingest"
        )
    if detail.start_date is None:
        raise EventIngestError(
            f"event {event.event_id} ({detail.name}) publishes no date, so it cannot be filed"
        )
    races = [_fetch_race(source, event, summary) for summary in detail.races]
    entry_list, warnings = _fetch_entry_list(source, event)
    return FetchedEvent(detail, races, entry_list, warnings)


def _fetch_detail(source: EventSource, event: EventRef) -> EventDetail:
    try:
        return source.fetch_event(event)
    except NoSuchEventError as exc:
        raise EventNotFoundError(f"{exc}; check the event id") from exc
    except SourceHttpError as exc:
        if exc.status in (404, 410):
            raise EventNotFoundError(
                f"{_named(event)} does not exist (the event page {exc.url} answered HTTP {exc.status}); "
                "check the event id"
            ) from exc
        raise EventIngestError(f"event {event.event_id} page could not be used: {exc}") from exc
    except ConnectorError as exc:
        raise EventIngestError(f"event {event.event_id} page could not be used: {exc}") from exc


def _fetch_race(source: EventSource, event: EventRef, summary: RaceSummary) -> RaceResult:
    try:
        return source.fetch_race(event, summary)
    except ConnectorError as exc:
        raise EventIngestError(
            f"race {summary.race_id} ({summary.section}, Race {summary.race_number}: "
            f"{summary.session_label}) could not be used, so nothing was written: {exc}"
        ) from exc


def _fetch_entry_list(source: EventSource, event: EventRef) -> tuple[EntryList | None, list[str]]:
    """The entry list and the warning to give without one: a missing entry list never fails the event."""
    try:
        entry_list = source.fetch_entry_list(event)
    except ConnectorError as exc:
        return None, [f"entry list not ingested: {exc}"]
    if entry_list is None or not entry_list.entries:
        return None, ["event has no entry list (missing or empty); ingested without entries"]
    return entry_list, []


def _named(event: EventRef) -> str:
    """The event as a message names it: ``event 486677 at canberraoffroad``, ``Everlaps event 3702``."""
    if event.track_slug:
        return f"event {event.event_id} at {event.track_slug}"
    rules = rules_for(event.source)
    return f"{rules.label if rules else event.source} event {event.event_id}"


def ingest_event(
    source: EventSource,
    engine: sa.Engine,
    event: EventRef,
    on_commit: OnCommit | None = None,
) -> StepReport:
    """Fetch, validate, then write the event in one transaction with its integrity checks."""
    started = time.monotonic()
    fetched = fetch_event(source, event)
    detail, races, entry_list = fetched.detail, fetched.races, fetched.entry_list
    validate_event(detail, races)
    n_results = sum(len(r.drivers) for r in races)
    n_laps = sum(len(d.laps) for r in races for d in r.drivers)
    outcome = f"ingested {len(races)} races, {n_results} results, {n_laps} laps"
    if fetched.warnings:
        outcome += f" ({'; '.join(fetched.warnings)})"
    write_started = time.monotonic()
    with engine.begin() as conn:
        written = write_event(conn, detail, races, entry_list)
        _check_written_event(conn, written.event_pk)
        race_rows = checks.race_summaries(conn, written.event_pk)
        if written.results_state == "incomplete":
            outcome += "; the event may still change, so ask again later for newer results"
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
        warnings=fetched.warnings,
    )
    report.summary_markdown = _markdown(detail, race_rows, report)
    report.detail = outcome
    return report


def _check_written_event(conn: sa.Connection, event_pk: int) -> None:
    """The blocking integrity checks, on the event just written, before the transaction commits."""
    bad_counts = checks.results_with_wrong_lap_count(conn, event_pk)
    if bad_counts:
        first = bad_counts[0]
        raise IntegrityCheckError(
            CHECK_LAP_COUNTS,
            f"race {first.source_race_id}, driver {first.name}: {first.laps_completed} laps "
            f"but {first.lap_rows} lap rows ({len(bad_counts)} result(s) affected)",
        )
    bad_laps = checks.results_with_bad_laps(conn, event_pk)
    if bad_laps:
        first = bad_laps[0]
        raise IntegrityCheckError(
            CHECK_LAPS_WELL_FORMED,
            f"race {first.source_race_id}, driver {first.name}: {first.lap_rows} laps numbered up to "
            f"{first.last_lap}, worst position {first.worst_position} of {first.drivers} drivers",
        )


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
