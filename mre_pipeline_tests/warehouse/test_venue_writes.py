"""Events of a source without a catalogue bring their venue: it becomes a track row in the event's transaction,
keeps its organiser and coordinates, is not rewritten when unchanged, and carries the event if it moves."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sqlalchemy as sa

from mre_pipeline.connectors.records import EventDetail, RaceResult
from mre_pipeline.fake_everlaps.generator import generate_event
from mre_pipeline.warehouse.event_results import write_event
from mre_pipeline.warehouse.migrate import alembic_config

EVENT = generate_event(11, classes=1, drivers_per_class=6, qualifying_rounds=1, semi_series=1)

VENUE_SQL = """
SELECT t.track_id, t.source, t.slug, t.name, t.organiser, t.latitude::float AS latitude,
       t.longitude::float AS longitude, t.activity, t.is_active, t.xmin::text AS xmin
FROM mre.tracks t
"""


def write(engine: sa.Engine, detail: EventDetail, races: list[RaceResult]) -> None:
    with engine.begin() as conn:
        write_event(conn, detail, races, None)


def venues(engine: sa.Engine) -> list[sa.Row]:
    with engine.connect() as conn:
        return conn.exec_driver_sql(VENUE_SQL + " ORDER BY t.slug").all()


def test_the_venue_becomes_a_track_and_everlaps_columns_are_stored(clean_warehouse: sa.Engine) -> None:
    races = list(EVENT.results.values())
    write(clean_warehouse, EVENT.detail, races)
    venue = EVENT.detail.venue
    assert venue is not None
    [row] = venues(clean_warehouse)
    assert (row.source, row.slug, row.name, row.organiser, row.latitude, row.longitude, row.is_active) == (
        "everlaps",
        venue.slug,
        venue.name,
        venue.organiser,
        venue.latitude,
        venue.longitude,
        True,
    )
    with clean_warehouse.connect() as conn:
        event = conn.exec_driver_sql(
            "SELECT track_id, starts_at_utc, ends_at_utc, start_date, ingest_depth FROM mre.events"
        ).one()
        stored = conn.exec_driver_sql(
            "SELECT r.source_race_id, r.locator, r.lead_in_counted, d.source_driver_id, "
            "rr.lead_in_time_s::float, rr.avg_top3_s::float "
            "FROM mre.race_results rr JOIN mre.races r USING (race_id) JOIN mre.drivers d USING (driver_id)"
        ).all()
    assert event.track_id == row.track_id and event.ingest_depth == "laps_full"
    assert (event.starts_at_utc, event.ends_at_utc) == (EVENT.detail.starts_at_utc, EVENT.detail.ends_at_utc)
    assert event.start_date == EVENT.detail.start_date
    locators = {s.race_id: s.locator for s in EVENT.detail.races}
    expected = sorted(
        (
            race.race_id,
            locators[race.race_id],
            race.lead_in_counted,
            d.driver_id,
            d.lead_in_time_s,
            d.avg_top3_s,
        )
        for race in races
        for d in race.drivers
    )
    assert sorted(tuple(r) for r in stored) == expected
    assert any(r[4] is not None for r in stored) and any(r[5] is not None for r in stored)


def test_an_unchanged_venue_is_not_rewritten_and_a_changed_one_is_updated(clean_warehouse: sa.Engine) -> None:
    races = list(EVENT.results.values())
    write(clean_warehouse, EVENT.detail, races)
    [before] = venues(clean_warehouse)
    write(clean_warehouse, EVENT.detail, races)
    assert venues(clean_warehouse) == [before]

    renamed = replace(EVENT.detail.venue, name="Circuito Renovado", organiser="Club Nuevo")
    write(clean_warehouse, replace(EVENT.detail, venue=renamed), races)
    [after] = venues(clean_warehouse)
    assert (after.track_id, after.name, after.organiser) == (
        before.track_id,
        "Circuito Renovado",
        "Club Nuevo",
    )


def test_an_event_follows_its_venue_when_the_map_link_is_corrected(clean_warehouse: sa.Engine) -> None:
    races = list(EVENT.results.values())
    write(clean_warehouse, EVENT.detail, races)
    moved_venue = replace(EVENT.detail.venue, slug="everlaps-n40000-w003000", latitude=40.0, longitude=-3.0)
    write(clean_warehouse, replace(EVENT.detail, venue=moved_venue, track_slug=moved_venue.slug), races)
    with clean_warehouse.connect() as conn:
        slug = conn.exec_driver_sql(
            "SELECT t.slug FROM mre.events e JOIN mre.tracks t USING (track_id)"
        ).scalar_one()
    assert slug == "everlaps-n40000-w003000"
    assert len(venues(clean_warehouse)) == 2  # the old venue stays: other events may be held there


def test_a_venue_that_is_not_the_events_track_is_refused(clean_warehouse: sa.Engine) -> None:
    detail = replace(EVENT.detail, track_slug="everlaps-somewhere-else")
    with pytest.raises(ValueError, match="is not its track"), clean_warehouse.begin() as conn:
        write_event(conn, detail, list(EVENT.results.values()), None)
    assert venues(clean_warehouse) == []


def test_migration_0004_downgrades_and_upgrades_again(empty_database_url: str) -> None:
    from alembic import command

    config = alembic_config(empty_database_url)
    command.upgrade(config, "head")
    command.downgrade(config, "0003")
    engine = sa.create_engine(empty_database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            columns = {
                r[0]
                for r in conn.exec_driver_sql(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = 'mre'"
                )
            }
        assert not {"organiser", "starts_at_utc", "locator", "lead_in_counted", "lead_in_time_s"} & columns
        command.upgrade(config, "head")
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM mre.alembic_version").scalar() == "0006"
    finally:
        engine.dispose()
