"""Summaries maintained per event: a build for a batch of events replaces exactly their rows (and the
driver/track/year rollups they feed), equals a full build, and records the watermark the sensor reads."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa

from mre_pipeline.summaries.dbt_env import summary_build_env
from mre_pipeline.summaries.manifest import models_version
from mre_pipeline.warehouse.scratch import scratch_database
from mre_pipeline.warehouse.summary_state import summary_backlog, watermark_rows
from mre_pipeline_tests.summaries.conftest import dbt_batch_build_ok, dbt_build_ok, rows, run_dbt
from mre_pipeline_tests.summaries.generated import (
    SiteEvent,
    changed_upstream,
    site_events,
    track_exists,
    write_records,
)

MARTS = {
    "driver_race_summary": "race_result_id",
    "lap_progression": "race_result_id, lap_number",
    "driver_event_summary": "event_id, driver_id",
    "driver_track_history": "driver_id, track_id, race_year",
}
EVENTS = site_events()


def snapshot(engine: sa.Engine) -> dict[str, list[dict]]:
    return {
        table: rows(engine, f"SELECT * FROM mre_summaries.{table} ORDER BY {key}")
        for table, key in MARTS.items()
    }


def row_versions(engine: sa.Engine, table: str, where: str) -> dict[tuple, str]:
    """Each row's physical version (xmin): unchanged xmin = the build did not touch the row."""
    key = MARTS[table]
    return {
        tuple(r[k.strip()] for k in key.split(",")): r["xmin"]
        for r in rows(engine, f"SELECT {key}, xmin::text AS xmin FROM mre_summaries.{table} WHERE {where}")
    }


def backlog_ids(engine: sa.Engine, version: str | None = None, **kwargs: object) -> list[int]:
    with engine.connect() as conn:
        backlog = summary_backlog(conn, version or models_version(), limit=200, **kwargs)
    return [e.event_id for e in backlog.events]


@pytest.fixture(scope="module")
def built_one_by_one(summaries_db: str, summaries_engine: sa.Engine) -> Iterator[dict[int, int]]:
    """The first deploy builds the empty warehouse; then each event is written and built on its own."""
    assert len(EVENTS) == 4 and len({e.track_slug for e in EVENTS}) == 2
    with summaries_engine.connect() as conn:
        first = summary_backlog(conn, models_version(), limit=200)
    assert (first.first_build, first.events) == (True, [])
    dbt_build_ok(summaries_db)
    ids = {}
    for event in EVENTS:
        track_exists(summaries_engine, event.track_slug)
        ids[event.detail.event_id] = write_records(summaries_engine, event)
        assert backlog_ids(summaries_engine) == [ids[event.detail.event_id]]
        dbt_batch_build_ok(summaries_db, [ids[event.detail.event_id]])
        assert backlog_ids(summaries_engine) == []
    yield ids


def test_incremental_builds_equal_a_full_build(
    built_one_by_one: dict[int, int], summaries_db: str, summaries_engine: sa.Engine
) -> None:
    incremental = snapshot(summaries_engine)
    assert {t: len(r) for t, r in incremental.items()}["lap_progression"] == sum(
        len(d.laps) for e in EVENTS for r in e.races for d in r.drivers
    )
    # Drivers race both events of a track: their history rows were rebuilt from both events.
    assert any(r["events"] == 2 for r in incremental["driver_track_history"])
    with summaries_engine.connect() as conn:
        ingested = dict(conn.exec_driver_sql("SELECT event_id, last_ingested_at FROM mre.events").all())
        assert watermark_rows(conn) == {e: ingested[e] for e in built_one_by_one.values()}
    dbt_build_ok(summaries_db)  # everything from scratch
    assert snapshot(summaries_engine) == incremental
    assert backlog_ids(summaries_engine) == []


def test_changed_reingest_replaces_exactly_that_events_rows(
    built_one_by_one: dict[int, int], summaries_db: str, summaries_engine: sa.Engine
) -> None:
    original = EVENTS[1]  # the second event of the first track: drivers shared with the first
    event_id = built_one_by_one[original.detail.event_id]
    changed, removed_race, changed_driver = changed_upstream(original)
    others = f"event_id <> {event_id}"
    before = {t: row_versions(summaries_engine, t, others) for t in MARTS if t != "driver_track_history"}
    [track] = rows(summaries_engine, "SELECT track_id FROM mre.events WHERE event_id = :e", e=event_id)
    track_id = track["track_id"]
    other_tracks = f"track_id <> {track_id}"
    history_before = row_versions(summaries_engine, "driver_track_history", other_tracks)
    [winner_before] = rows(
        summaries_engine,
        "SELECT total_time_s FROM mre_summaries.driver_race_summary s "
        "WHERE s.source_race_id = :r AND s.source_driver_id = :d",
        r=changed.races[0].race_id,
        d=changed_driver,
    )

    write_records(summaries_engine, changed)
    assert backlog_ids(summaries_engine) == [event_id]
    dbt_batch_build_ok(summaries_db, [event_id])

    assert backlog_ids(summaries_engine) == []
    for table, versions in before.items():  # other events' rows: not rewritten
        assert row_versions(summaries_engine, table, others) == versions, table
    assert row_versions(summaries_engine, "driver_track_history", other_tracks) == history_before
    assert rows(
        summaries_engine,
        "SELECT count(*) AS n FROM mre_summaries.lap_progression WHERE source_race_id = :r",
        r=removed_race,
    ) == [{"n": 0}]
    assert rows(
        summaries_engine,
        "SELECT count(*) AS n FROM mre_summaries.driver_race_summary WHERE source_race_id = :r",
        r=removed_race,
    ) == [{"n": 0}]
    [winner_after] = rows(
        summaries_engine,
        "SELECT total_time_s FROM mre_summaries.driver_race_summary s "
        "WHERE s.source_race_id = :r AND s.source_driver_id = :d",
        r=changed.races[0].race_id,
        d=changed_driver,
    )
    assert winner_after["total_time_s"] - winner_before["total_time_s"] == Decimal("0.250")
    # The event's rows and the rollups it feeds are exactly what a build from scratch gives.
    incremental = snapshot(summaries_engine)
    dbt_build_ok(summaries_db)
    assert snapshot(summaries_engine) == incremental


def test_a_driver_dropped_from_an_event_loses_it_from_their_history(
    built_one_by_one: dict[int, int], summaries_db: str, summaries_engine: sa.Engine
) -> None:
    """Rollup keys the event no longer feeds are recomputed (or deleted when nothing feeds them)."""
    event, other = EVENTS[3], EVENTS[2]  # the two events of the second track
    event_id = built_one_by_one[event.detail.event_id]
    elsewhere = {d.driver_id for r in other.races for d in r.drivers}
    racing = {d.driver_id for r in event.races for d in r.drivers}
    driver = next(
        d
        for d in sorted(racing - elsewhere)
        if any(all(x.driver_id != d for x in r.drivers) for r in event.races)
    )
    kept = [r for r in event.races if all(x.driver_id != driver for x in r.drivers)]
    kept_ids = {r.race_id for r in kept}
    detail = dataclasses.replace(
        event.detail, races=tuple(s for s in event.detail.races if s.race_id in kept_ids)
    )
    history = "SELECT count(*) AS n FROM mre_summaries.driver_track_history WHERE source_driver_id = :d AND track_slug = :t"
    assert rows(summaries_engine, history, d=driver, t=event.track_slug) == [{"n": 1}]
    write_records(summaries_engine, SiteEvent(event.track_slug, detail, kept, event.entries))
    dbt_batch_build_ok(summaries_db, [event_id])
    assert rows(summaries_engine, history, d=driver, t=event.track_slug) == [{"n": 0}]
    incremental = snapshot(summaries_engine)
    dbt_build_ok(summaries_db)
    assert snapshot(summaries_engine) == incremental


def renamed(event: SiteEvent) -> SiteEvent:
    """The event as its source republishes it under a corrected name (its rows otherwise unchanged)."""
    return dataclasses.replace(
        event, detail=dataclasses.replace(event.detail, name=event.detail.name + " (r)")
    )


def set_models_version(engine: sa.Engine, version: str | None) -> None:
    """As after builds by the sensor (a version) or by hand (NULL)."""
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE mre_summaries.summary_watermark SET models_version = :v"), {"v": version}
        )


def test_backlog_is_exactly_the_changed_events(
    built_one_by_one: dict[int, int], summaries_db: str, summaries_engine: sa.Engine
) -> None:
    current = models_version()
    set_models_version(summaries_engine, current)
    assert backlog_ids(summaries_engine) == []
    first, third = built_one_by_one[EVENTS[0].detail.event_id], built_one_by_one[EVENTS[2].detail.event_id]
    write_records(summaries_engine, EVENTS[2])  # re-ingested unchanged: only last_ingested_at moves
    assert backlog_ids(summaries_engine) == [], "an ingestion that changed nothing costs no build"
    write_records(summaries_engine, renamed(EVENTS[2]))  # re-ingested with a change: results_changed_at moves
    write_records(summaries_engine, renamed(EVENTS[0]))
    assert backlog_ids(summaries_engine) == [third, first]  # oldest change first
    with summaries_engine.connect() as conn:
        changed_third = conn.execute(
            sa.text("SELECT results_changed_at FROM mre.events WHERE event_id = :e"), {"e": third}
        ).scalar()
        backlog = summary_backlog(conn, current, limit=1)
        assert [e.event_id for e in backlog.events] == [third]  # bounded
        # The views were built by hand (no models version recorded): the next build recreates them.
        assert backlog.rebuild_staging is True
        # A new version of the models: every event is due (data changes first).
        another = summary_backlog(conn, "another", limit=200)
        assert [e.event_id for e in another.events][:2] == [third, first]
        assert sorted(e.event_id for e in another.events) == sorted(built_one_by_one.values())
    # A parked event (its build keeps failing) is left out until its rows change again.
    assert backlog_ids(summaries_engine, skip={third: changed_third}) == [first]
    dbt_batch_build_ok(summaries_db, [third, first], rebuild_staging=True)
    assert backlog_ids(summaries_engine) == []
    write_records(summaries_engine, EVENTS[2])
    with summaries_engine.connect() as conn:  # this version built the views now: only a new one rebuilds them
        assert summary_backlog(conn, current, limit=200).rebuild_staging is False
        assert summary_backlog(conn, "another", limit=200).rebuild_staging is True
    dbt_batch_build_ok(summaries_db, [third])
    # Rows built by hand (no version recorded) count as current.
    set_models_version(summaries_engine, None)
    assert backlog_ids(summaries_engine, version="another") == []


def test_data_tests_leave_out_an_event_that_changed_after_the_build_read_it(
    built_one_by_one: dict[int, int], summaries_db: str, summaries_engine: sa.Engine
) -> None:
    """An ingestion that commits while a build runs can change an event after the build summarised it (a
    first full build overlapping the first ingestion, say). Comparing those rows with the live laps would
    fail the build, and its retry, for nothing: the event is left out of the tests. Its change makes it
    due, and the next build summarises and tests it."""
    event_id = built_one_by_one[EVENTS[3].detail.event_id]
    changed, _, _ = changed_upstream(EVENTS[3])
    write_records(summaries_engine, changed)  # committed after the last build read the event
    assert backlog_ids(summaries_engine) == [event_id]
    for batch in ([], [event_id]):  # a full build's tests, then those of a build of the event
        completed = run_dbt(summaries_db, "test", env=summary_build_env(batch, models_version()))
        assert completed.returncode == 0, (completed.stdout + completed.stderr)[-4000:]
    dbt_batch_build_ok(summaries_db, [event_id])
    assert backlog_ids(summaries_engine) == []
    incremental = snapshot(summaries_engine)
    dbt_build_ok(summaries_db)  # the tests now cover the event again, and pass
    assert snapshot(summaries_engine) == incremental


def test_first_build_of_an_empty_deployment(pg_base_url: str) -> None:
    with scratch_database(pg_base_url, "mre_first_summ") as url:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            backlog = summary_backlog(conn, models_version(), limit=200)
        engine.dispose()
    assert (backlog.first_build, backlog.rebuild_staging, backlog.events) == (True, True, [])
