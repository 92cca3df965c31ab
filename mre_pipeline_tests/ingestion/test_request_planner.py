"""Queue rows become exactly one decision each, with reasons a user can act on."""

from __future__ import annotations

from datetime import UTC, date, datetime

from mre_pipeline.ingestion.request_planner import ActiveWork, AlreadyDone, Attach, Launch, Reject, plan_batch
from mre_pipeline.ingestion.request_rules import CatalogueView
from mre_pipeline.warehouse.requests import QueueRow

KNOWN = CatalogueView({"canberraoffroad", "bayrc"})


def row(
    i: int,
    t: str | None = "ingest_event",
    slug: str | None = "canberraoffroad",
    event: str | None = "486677",
    start: date | None = None,
    end: date | None = None,
    force: bool = False,
    source: str | None = "liverc",
) -> QueueRow:
    return QueueRow(i, source, t, slug, event, start, end, "test", force)


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
        row(10, event="4866\t77"),
        row(11, event="486677\n"),
        row(12, slug="x" * 10_000),
        row(13, source="mylaps"),
        row(14, source="everlaps", t="discover_events", slug=None),
    ]
    actions = plan_batch(rows, KNOWN, {}, {})
    reasons = {a.request_id: a.reason for a in actions if isinstance(a, Reject)}
    assert (
        reasons[1] == "request_type 'download_everything' is unknown; use 'discover_events' or 'ingest_event'"
    )
    assert reasons[2] == "track_slug is empty"
    assert "'canberra/offroad' is not a LiveRC track slug" in reasons[3]
    assert "'canberra.offroad' is not a LiveRC track slug" in reasons[4]
    assert reasons[5] == "source_event_id '48a6677' is not a numeric event id (e.g. 486677)"
    assert reasons[6] == "held_between_end 2025-01-01 is before held_between_start 2025-02-01"
    assert "track 'nosuchtrack' is not in the LiveRC track catalogue" in reasons[7]
    assert reasons[9] == "request_type is missing; use 'discover_events' or 'ingest_event'"
    assert reasons[10] == "source_event_id '4866\\t77' is not a numeric event id (e.g. 486677)"
    assert reasons[11] == "source_event_id '486677\\n' is not a numeric event id (e.g. 486677)"
    assert len(reasons[12]) < 200 and "'" + "x" * 40 + "…'" in reasons[12]
    assert reasons[13] == "source 'mylaps' is unknown; use one of everlaps, liverc"
    assert reasons[14] == "Everlaps has no track listing to discover; ask for an event with ingest_event"
    launched = [a for a in actions if isinstance(a, Launch)]
    assert [(a.request_id, a.accepted.partition_key, a.run_key) for a in launched] == [
        (8, "liverc-canberraoffroad-486677", "request-8")
    ]


def test_duplicates_attach_and_ingested_events_finish_at_once() -> None:
    rows = [
        row(1),
        row(2),
        row(3, event="111"),
        row(4, event="111", force=True),
        row(5, t="discover_events", slug="BayRC", event=None),
        row(6, source=" LiveRC "),
    ]
    active = {("ingest_event", "liverc-canberraoffroad-111"): ActiveWork(77, "run-77")}
    when = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    actions = plan_batch(rows, KNOWN, active, {("liverc", 486677): when})
    kinds = {a.request_id: a for a in actions}
    assert isinstance(kinds[1], AlreadyDone)
    assert kinds[1].detail.startswith("event 486677 was already fully ingested (2026-01-02 03:04 UTC)")
    assert isinstance(kinds[2], AlreadyDone)
    assert isinstance(kinds[3], Attach) and (kinds[3].to_request_id, kinds[3].run_id) == (77, "run-77")
    assert isinstance(kinds[4], Attach), "force does not start a second run while one is under way"
    assert isinstance(kinds[5], Launch) and kinds[5].accepted.partition_key == "liverc-bayrc"
    assert isinstance(kinds[6], AlreadyDone), "the source is compared trimmed and lower-case"


def test_same_event_twice_in_one_batch_launches_once() -> None:
    actions = plan_batch([row(1, force=True), row(2, force=True)], KNOWN, {}, {})
    assert isinstance(actions[0], Launch)
    assert isinstance(actions[1], Attach) and actions[1].to_request_id == 1 and actions[1].run_id is None


def test_without_a_catalogue_liverc_rows_are_rejected_as_unfetched_not_unknown() -> None:
    [action] = plan_batch([row(1)], CatalogueView(set(), ready=False), {}, {})
    assert isinstance(action, Reject)
    assert action.reason == (
        "the LiveRC track catalogue has not been fetched yet, so track 'canberraoffroad' cannot be checked; "
        "try again later"
    )
