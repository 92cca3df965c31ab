"""Event writes are atomic, idempotent, correct in place, and serialised per event."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
import sqlalchemy as sa

from mre_pipeline.connectors.records import TrackRecord
from mre_pipeline.warehouse.catalogue import upsert_catalogue
from mre_pipeline.warehouse.event_results import event_row_counts, lock_event, write_event
from mre_pipeline_tests.records_factory import small_event, with_driver

SNAPSHOT_SQL = """
SELECT r.source_race_id, d.source_driver_id, d.name, rr.position, rr.laps_completed, rr.total_time_s,
       l.lap_number, l.lap_time_s, l.position
FROM mre.race_results rr JOIN mre.races r USING (race_id) JOIN mre.drivers d USING (driver_id)
LEFT JOIN mre.laps l USING (race_result_id)
ORDER BY 1, 2, 7
"""


@pytest.fixture
def warehouse(clean_warehouse: sa.Engine) -> sa.Engine:
    with clean_warehouse.begin() as conn:
        upsert_catalogue(conn, "liverc", [TrackRecord("liverc", "testtrack", "Test Track", "idle")])
    return clean_warehouse


def _snapshot(engine: sa.Engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(SNAPSHOT_SQL)]


def _xmins(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return [
            r[0]
            for r in conn.exec_driver_sql(
                "SELECT xmin::text FROM mre.laps UNION ALL SELECT xmin::text FROM mre.race_results "
                "UNION ALL SELECT xmin::text FROM mre.races UNION ALL SELECT xmin::text FROM mre.drivers"
            )
        ]


def test_write_then_rewrite_changes_nothing(warehouse: sa.Engine) -> None:
    detail, races, entries = small_event()
    with warehouse.begin() as conn:
        first = write_event(conn, detail, races, entries)
    assert first.as_dict()["laps"] == {"inserted": 9, "updated": 0, "deleted": 0}
    assert first.as_dict()["results"]["inserted"] == 5
    with warehouse.connect() as conn:
        assert event_row_counts(conn, "liverc", 1001) == {"races": 2, "results": 5, "laps": 9, "entries": 3}
        depth, ingested = conn.exec_driver_sql(
            "SELECT ingest_depth, last_ingested_at FROM mre.events WHERE source_event_id = 1001"
        ).one()
    assert depth == "laps_full" and ingested is not None
    before, xmins = _snapshot(warehouse), _xmins(warehouse)

    with warehouse.begin() as conn:
        second = write_event(conn, detail, races, entries)
    assert all(c == {"inserted": 0, "updated": 0, "deleted": 0} for c in second.as_dict().values())
    assert _snapshot(warehouse) == before
    assert _xmins(warehouse) == xmins, "unchanged rows must not be rewritten"


def test_upstream_corrections_update_in_place(warehouse: sa.Engine) -> None:
    detail, races, entries = small_event()
    with warehouse.begin() as conn:
        write_event(conn, detail, races, entries)
    # Upstream fixes: lap 3 of ANNA corrected, positions 1/2 swapped in race A, SAM removed from race B.
    race_a = with_driver(races[0], 0, position=2)
    race_a = with_driver(race_a, 1, position=1)
    anna = race_a.drivers[0]
    fixed_laps = anna.laps[:2] + (replace(anna.laps[2], lap_time_s=29.8),)
    race_a = with_driver(race_a, 0, laps=fixed_laps, total_time_s=90.05)
    race_b = replace(races[1], drivers=races[1].drivers[:1])
    with warehouse.begin() as conn:
        change = write_event(conn, detail, [race_a, race_b], entries)
    assert change.results.updated == 2 and change.results.deleted == 1
    assert change.laps.as_dict() == {"inserted": 0, "updated": 1, "deleted": 0}  # SAM's lap went by cascade
    with warehouse.connect() as conn:
        assert event_row_counts(conn, "liverc", 1001) == {"races": 2, "results": 4, "laps": 8, "entries": 3}
        assert conn.exec_driver_sql(
            "SELECT lap_time_s::float FROM mre.laps l JOIN mre.race_results rr USING (race_result_id) "
            "JOIN mre.drivers d USING (driver_id) WHERE d.name = 'ANNA O''CONNOR' AND l.lap_number = 3"
        ).scalar_one() == pytest.approx(29.8)
        positions = dict(
            conn.exec_driver_sql(
                "SELECT d.name, rr.position FROM mre.race_results rr JOIN mre.drivers d USING (driver_id) "
                "JOIN mre.races r USING (race_id) WHERE r.source_race_id = 5001"
            ).all()
        )
    assert positions == {"ANNA O'CONNOR": 2, "JÖRG MÜLLER": 1, "LEE DNS": 3}


def test_failed_write_leaves_previous_data(warehouse: sa.Engine) -> None:
    detail, races, entries = small_event()
    with warehouse.begin() as conn:
        write_event(conn, detail, races, entries)
    before = _snapshot(warehouse)
    broken = with_driver(races[0], 0, laps_completed=-1)  # violates a check constraint mid-write
    with pytest.raises(sa.exc.IntegrityError), warehouse.begin() as conn:
        write_event(conn, detail, [broken, races[1]], entries)
    assert _snapshot(warehouse) == before


def test_event_lock_serialises_writers(warehouse: sa.Engine) -> None:
    """A second writer of the same event waits for the first transaction to end."""
    order: list[str] = []
    holding = threading.Event()

    def first() -> None:
        with warehouse.begin() as conn:
            lock_event(conn, "liverc", 1001)
            holding.set()
            conn.exec_driver_sql("SELECT pg_sleep(0.5)")
            order.append("first-done")

    def second() -> None:
        holding.wait()
        with warehouse.begin() as conn:
            lock_event(conn, "liverc", 1001)
            order.append("second-locked")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert order == ["first-done", "second-locked"]
