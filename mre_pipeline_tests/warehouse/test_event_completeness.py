"""Whether an ingested event may still change (migration 0005): the rule, its backfill, and the writer that
keeps ``results_state`` and ``results_changed_at`` on real Postgres."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from mre_pipeline.connectors.records import TrackRecord
from mre_pipeline.warehouse.catalogue import upsert_catalogue
from mre_pipeline.warehouse.event_results import write_event
from mre_pipeline.warehouse.migrate import alembic_config
from mre_pipeline_tests.records_factory import small_event, with_driver

STATE_SQL = """
SELECT results_state, results_state_since, complete_after, races_pending, last_ingested_at, results_changed_at,
       updated_at
FROM mre.events WHERE source_event_id = :id
"""


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("end_date", "ends_at_utc", "pending", "expected"),
    [
        # Track-local date, no zone: over at 12:00 UTC the next day (midnight in UTC-12).
        (date(2026, 12, 6), None, 0, utc(2026, 12, 7, 12)),
        # Races listed without results: a day later still.
        (date(2026, 12, 6), None, 2, utc(2026, 12, 8, 12)),
        # A published UTC end: its day's rule, or 2 hours after the end when that is later.
        (date(2026, 3, 22), utc(2026, 3, 22, 17), 0, utc(2026, 3, 23, 12)),
        (date(2026, 3, 22), utc(2026, 3, 23, 11), 0, utc(2026, 3, 23, 13)),
    ],
)
def test_the_rule_in_one_place(
    warehouse_engine: sa.Engine,
    end_date: date,
    ends_at_utc: datetime | None,
    pending: int,
    expected: datetime,
) -> None:
    with warehouse_engine.connect() as conn:
        conn.exec_driver_sql("SET TIME ZONE 'Pacific/Auckland'")  # the answer never depends on the session
        got = conn.execute(
            sa.text("SELECT mre.event_complete_after(:d, :e, :p)"),
            {"d": end_date, "e": ends_at_utc, "p": pending},
        ).scalar_one()
    assert got == expected


@pytest.fixture
def warehouse(clean_warehouse: sa.Engine) -> sa.Engine:
    with clean_warehouse.begin() as conn:
        upsert_catalogue(conn, "liverc", [TrackRecord("liverc", "testtrack", "Test Track", "idle")])
    return clean_warehouse


def write(engine: sa.Engine, detail, races, entries):
    with engine.begin() as conn:
        return write_event(conn, detail, races, entries)


def state(engine: sa.Engine, event_id: int = 1001) -> sa.Row:
    with engine.connect() as conn:
        return conn.execute(sa.text(STATE_SQL), {"id": event_id}).one()


def test_a_running_event_is_incomplete_and_results_changed_at_moves_only_on_change(
    warehouse: sa.Engine,
) -> None:
    detail, races, entries = small_event()
    today = datetime.now(UTC).date()
    running = dataclasses.replace(detail, start_date=today, end_date=today, races_pending=1)
    first = write(warehouse, running, races[:1], entries)
    assert (first.results_state, first.changed) == ("incomplete", True)
    s1 = state(warehouse)
    assert (s1.results_state, s1.races_pending) == ("incomplete", 1)
    assert s1.complete_after == datetime.combine(
        today + timedelta(days=2), datetime.min.time(), UTC
    ) + timedelta(hours=12)
    assert s1.results_changed_at == s1.last_ingested_at == s1.results_state_since

    unchanged = write(warehouse, running, races[:1], entries)
    assert unchanged.changed is False and unchanged.as_dict()["laps"] == {
        "inserted": 0,
        "updated": 0,
        "deleted": 0,
    }
    s2 = state(warehouse)
    assert s2.last_ingested_at > s1.last_ingested_at, "last_ingested_at keeps meaning 'last fetched'"
    assert (s2.results_changed_at, s2.results_state_since, s2.updated_at) == (
        s1.results_changed_at,
        s1.results_state_since,
        s1.updated_at,
    )

    grown = dataclasses.replace(running, races_pending=0)
    second = write(warehouse, grown, races, entries)
    assert second.changed and second.races.inserted == 1
    s3 = state(warehouse)
    assert s3.results_changed_at == s3.last_ingested_at > s2.results_changed_at
    assert s3.results_state == "incomplete" and s3.results_state_since == s1.results_state_since

    corrected = [with_driver(races[0], 0, car_number="99"), races[1]]
    write(warehouse, grown, corrected, entries)
    assert state(warehouse).results_changed_at > s3.results_changed_at, "a corrected result is a change"


def test_a_finished_event_is_complete_from_its_first_fetch(warehouse: sa.Engine) -> None:
    detail, races, entries = small_event()  # March 2025
    assert write(warehouse, detail, races, entries).results_state == "complete"
    s = state(warehouse)
    assert s.results_state == "complete" and s.complete_after == utc(2025, 3, 3, 12)
    # Stored while it ran (as a fetch on its last day left it): the next fetch makes it complete, since then.
    with warehouse.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE mre.events SET results_state = 'incomplete', results_state_since = '2025-03-02 14:00+00'"
        )
    write(warehouse, detail, races, entries)
    after = state(warehouse)
    assert after.results_state == "complete" and after.results_state_since == after.last_ingested_at


def test_migration_0005_backfills_the_state_and_downgrades(empty_database_url: str) -> None:
    from alembic import command

    config = alembic_config(empty_database_url)
    command.upgrade(config, "0004")
    engine = sa.create_engine(empty_database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO mre.tracks (slug, name) VALUES ('t', 'T')")
            conn.exec_driver_sql(
                """
                INSERT INTO mre.events (source_event_id, track_id, name, start_date, end_date, ingest_depth,
                                        last_ingested_at)
                SELECT id, (SELECT track_id FROM mre.tracks), 'E', d, d, depth, at
                FROM (VALUES (1, date '2025-03-01', 'laps_full', timestamptz '2025-04-01 10:00+00'),
                             (2, date '2025-03-01', 'laps_full', timestamptz '2025-03-01 15:00+00'),
                             (3, date '2025-03-01', 'none', NULL)) AS v(id, d, depth, at)
                """
            )
        command.upgrade(config, "head")
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT source_event_id, results_state, results_changed_at = last_ingested_at, complete_after "
                "FROM mre.events ORDER BY source_event_id"
            ).all()
        assert [tuple(r) for r in rows] == [
            (1, "complete", True, utc(2025, 3, 2, 12)),
            (2, "incomplete", True, utc(2025, 3, 2, 12)),
            (3, None, None, None),
        ]
        command.downgrade(config, "0004")
        with engine.connect() as conn:
            columns = {
                r[0]
                for r in conn.exec_driver_sql(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = 'events'"
                )
            }
        assert not {"results_state", "results_changed_at", "complete_after"} & columns
        command.upgrade(config, "head")
    finally:
        engine.dispose()
