"""Queue rows become exactly one decision each, with reasons a user can act on."""

from __future__ import annotations

from datetime import UTC, date, datetime

from mre_pipeline.ingestion.request_planner import ActiveWork, AlreadyDone, Attach, Launch, Reject, plan_batch
from mre_pipeline.warehouse.requests import QueueRow

KNOWN = {"canberraoffroad", "bayrc"}


def row(
    i: int,
    t: str | None = "ingest_event",
    slug: str | None = "canberraoffroad",
    event: str | None = "486677",
    start: date | None = None,
    end: date | None = None,
    force: bool = False,
) -> QueueRow:
    return QueueRow(i, t, slug, event, start, end, "test", force)


def test_bad_rows_rejected_with_reasons_and_good_row_launches() -> None:
    rows = [
        row(1, t="download_everything"),
        row(2, slug=""),
        row(3, slug="canberra/offroad"),
        row(4, slug="canberra.offroad"),
        row(5, event="48a6677"),
        row(6, t="discover_events", event=None, start=date(2025, 2, 1), end=date(2025, 1, 1)),
        row(7, slug="nosuchtrack"),
        row(8),
        row(9, t=None),
    ]
    actions = plan_batch(rows, KNOWN, {}, {})
    reasons = {a.request_id: a.reason for a in actions if isinstance(a, Reject)}
    assert "unknown request_type 'download_everything'" in reasons[1]
    assert reasons[2] == "track_slug is empty"
    assert "'canberra/offroad' is not a LiveRC track slug" in reasons[3]
    assert "'canberra.offroad' is not a LiveRC track slug" in reasons[4]
    assert "'48a6677' is not a numeric LiveRC event id" in reasons[5]
    assert reasons[6] == "held_between_end 2025-01-01 is before held_between_start 2025-02-01"
    assert "track 'nosuchtrack' is not in the LiveRC track catalogue" in reasons[7]
    assert "unknown request_type None" in reasons[9]
    launched = [a for a in actions if isinstance(a, Launch)]
    assert [(a.request_id, a.accepted.partition_key, a.run_key) for a in launched] == [
        (8, "canberraoffroad-486677", "request-8")
    ]


def test_duplicates_attach_and_ingested_events_finish_at_once() -> None:
    rows = [
        row(1),
        row(2),
        row(3, event="111"),
        row(4, event="111", force=True),
        row(5, t="discover_events", slug="BayRC", event=None),
    ]
    active = {("ingest_event", "canberraoffroad-111"): ActiveWork(77, "run-77")}
    when = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    actions = plan_batch(rows, KNOWN, active, {486677: when})
    kinds = {a.request_id: a for a in actions}
    assert isinstance(kinds[1], AlreadyDone)
    assert kinds[1].detail.startswith("event 486677 was already fully ingested (2026-01-02 03:04 UTC)")
    assert isinstance(kinds[2], AlreadyDone)
    assert isinstance(kinds[3], Attach) and (kinds[3].to_request_id, kinds[3].run_id) == (77, "run-77")
    assert isinstance(kinds[4], Attach), "force does not start a second run while one is under way"
    assert isinstance(kinds[5], Launch) and kinds[5].accepted.partition_key == "bayrc"


def test_same_event_twice_in_one_batch_launches_once() -> None:
    actions = plan_batch([row(1, force=True), row(2, force=True)], KNOWN, {}, {})
    assert isinstance(actions[0], Launch)
    assert isinstance(actions[1], Attach) and actions[1].to_request_id == 1 and actions[1].run_id is None
