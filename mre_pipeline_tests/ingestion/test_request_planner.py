"""Queue rows become exactly one decision each, with reasons a user can act on."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from mre_pipeline.ingestion.request_planner import ActiveWork, AlreadyDone, Attach, Launch, Reject, plan_batch
from mre_pipeline.ingestion.request_rules import CatalogueView
from mre_pipeline.warehouse.requests import QueueRow, StoredEvent

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
    actions = plan_batch(rows, KNOWN, active, {("liverc", 486677): stored(when, "complete")})
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


NOW = datetime(2026, 12, 6, 14, 0, 30, tzinfo=UTC)
INTERVAL = timedelta(minutes=10)


def stored(
    last_ingested_at: datetime,
    state: str = "incomplete",
    launched: datetime | None = None,
    now: datetime = NOW,
) -> StoredEvent:
    return StoredEvent(last_ingested_at, state, datetime(2026, 12, 7, 12, tzinfo=UTC), launched, now)


def decide(event: StoredEvent, force: bool = False) -> AlreadyDone | Launch | Attach | Reject:
    [action] = plan_batch([row(1, force=force)], KNOWN, {}, {("liverc", 486677): event}, INTERVAL)
    return action


def test_an_event_that_may_still_change_is_fetched_again_once_the_interval_has_passed() -> None:
    action = decide(stored(NOW - timedelta(minutes=10)))
    assert isinstance(action, Launch) and action.refresh
    assert (
        action.detail
        == "the event may still change, so it is fetched again; run requested (run key request-1)"
    )


def test_within_the_interval_a_request_is_answered_from_the_warehouse() -> None:
    action = decide(stored(datetime(2026, 12, 6, 13, 52, 40, tzinfo=UTC)))
    assert isinstance(action, AlreadyDone)
    assert action.detail == (
        "event 486677 may still change, and its results were last refreshed at 2026-12-06 13:52 UTC; "
        "ask again after 14:03 UTC for newer results"
    )


def test_a_failed_refresh_counts_for_the_interval_and_is_told() -> None:
    refreshed = datetime(2026, 12, 6, 11, 0, tzinfo=UTC)
    action = decide(stored(refreshed, launched=NOW - timedelta(minutes=4)))
    assert isinstance(action, AlreadyDone)
    assert action.detail == (
        "event 486677 may still change, and its results were last refreshed at 2026-12-06 11:00 UTC; "
        "the refresh started at 13:56 UTC did not complete; ask again after 14:07 UTC for newer results"
    )
    assert isinstance(decide(stored(refreshed, launched=NOW - timedelta(minutes=11))), Launch)


def test_force_fetches_at_once_and_a_complete_event_never_without_it() -> None:
    recent = stored(NOW - timedelta(minutes=1))
    forced = decide(recent, force=True)
    assert isinstance(forced, Launch) and forced.refresh
    assert forced.detail == "run requested (run key request-1)"
    done = decide(stored(NOW - timedelta(days=300), "complete"))
    assert isinstance(done, AlreadyDone) and "already fully ingested" in done.detail
    assert isinstance(decide(stored(NOW - timedelta(days=300), "complete"), force=True), Launch)


def test_a_crowd_in_one_batch_costs_one_fetch() -> None:
    rows = [row(i) for i in range(1, 6)]
    actions = plan_batch(rows, KNOWN, {}, {("liverc", 486677): stored(NOW - timedelta(hours=1))}, INTERVAL)
    assert isinstance(actions[0], Launch)
    assert all(isinstance(a, Attach) and a.to_request_id == 1 for a in actions[1:])
