"""The summaries sensor's decisions without Dagster: backoff, bisecting a batch that keeps failing, parking
the one event whose build fails so the others are built, and a cursor that survives a round trip."""

from __future__ import annotations

from datetime import UTC, datetime

from mre_pipeline.summaries import build_scheduler as sched

NOW = 1_800_000_000.0


def launch(cursor: sched.BuildCursor, due: list[int], now: float = NOW) -> list[int]:
    batch = sched.choose_batch(cursor, due)
    cursor.pending = sched.PendingBuild(
        run_key=f"k{now}",
        event_ids=batch,
        requested_at=now,
        ingested_at={str(e): datetime(2026, 1, 1, tzinfo=UTC).isoformat() for e in batch},
    )
    return batch


def test_backoff_doubles_up_to_fifteen_minutes() -> None:
    assert [sched.backoff_seconds(n) for n in range(7)] == [0, 30, 60, 120, 240, 480, 900]
    assert sched.backoff_seconds(20) == 900


def test_one_failure_retries_the_same_batch_after_the_backoff() -> None:
    cursor = sched.BuildCursor()
    due = list(range(1, 301))
    assert launch(cursor, due) == list(range(1, 201))  # bounded batches
    message = sched.record_failure(cursor, "dbt build failed: model x: connection refused", NOW)
    assert "retrying in 30 s" in message and cursor.retry_after == NOW + 30
    assert launch(cursor, due) == list(range(1, 201))
    sched.record_success(cursor)
    assert (cursor.failures, cursor.retry_after, cursor.pending) == (0, 0.0, None)


def test_a_batch_that_keeps_failing_is_bisected_down_to_the_bad_event_which_is_parked() -> None:
    bad = 13
    due = list(range(1, 21))
    cursor = sched.BuildCursor()
    builds = 0
    while bad not in cursor.parked:
        batch = launch(cursor, [e for e in due if e not in cursor.parked])
        builds += 1
        if bad in batch:
            sched.record_failure(cursor, "test failed", NOW)
        else:
            sched.record_success(cursor)
            due = [e for e in due if e not in batch]
        assert builds < 20
    assert cursor.parked[bad].until == NOW + sched.PARK_SECONDS
    assert cursor.parked[bad].ingested_at.startswith("2026-01-01")
    assert (cursor.failures, cursor.suspects) == (0, [])
    # The others are built without it.
    batch = launch(cursor, [e for e in due if e not in cursor.parked])
    assert bad not in batch
    assert set(sched.parked_skip_list(cursor)) == {bad}
    sched.expire_parked(cursor, NOW + sched.PARK_SECONDS + 1)
    assert cursor.parked == {}


def test_builds_that_never_reached_the_data_back_off_but_never_park_an_event() -> None:
    """A stopped service or a dead run worker says nothing about the event: it is retried, not parked."""
    cursor = sched.BuildCursor()
    for failures in range(1, 5):
        assert launch(cursor, [7]) == [7]
        message = sched.record_failure(cursor, "run 1234abcd ended failure", NOW, of_the_data=False)
        assert f"{failures} failure(s) in a row" in message
        assert cursor.retry_after == NOW + sched.backoff_seconds(failures)
        assert (cursor.parked, cursor.suspects) == ({}, [])
    # Nor does a failure of another batch: only the same events failing twice for their data park one.
    launch(cursor, [])
    sched.record_failure(cursor, "dbt build failed: test x failed (1 rows)", NOW)
    for attempt in range(2):
        assert launch(cursor, [7]) == [7]
        message = sched.record_failure(cursor, "dbt build failed: test x failed (1 rows)", NOW)
        assert ("event 7 is left out" in message) == (attempt == 1), message
    assert set(cursor.parked) == {7}


def test_cursor_round_trips_and_a_broken_one_starts_afresh() -> None:
    cursor = sched.BuildCursor(failures=2, retry_after=NOW, last_error="x", suspects=[1, 2], launched=7)
    launch(cursor, [1, 2, 3])
    cursor.parked[9] = sched.ParkedEvent(ingested_at="2026-01-01T00:00:00+00:00", until=NOW)
    assert sched.BuildCursor.from_json(cursor.to_json()) == cursor
    assert sched.BuildCursor.from_json("not json") == sched.BuildCursor()
    assert sched.BuildCursor.from_json(None) == sched.BuildCursor()
