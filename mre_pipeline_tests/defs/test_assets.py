"""The three LiveRC assets against the captured pages on loopback, real Postgres, real Dagster instance."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from mre_pipeline.connectors.everlaps.resource import EverlapsResource
from mre_pipeline.connectors.liverc.resource import LiveRCResource
from mre_pipeline.defs.assets import event_results, track_catalogue, track_events
from mre_pipeline.defs.resources import WarehouseResource
from mre_pipeline.fake_liverc import FakeLiveRCServer
from mre_pipeline.fake_liverc.captured import captured_site, use_event_page
from mre_pipeline.warehouse import requests as queue

ASSETS = [track_catalogue, track_events, event_results]
EVENT_KEY = "liverc-canberraoffroad-486677"

RESULTS_SQL = """
SELECT r.source_race_id, d.source_driver_id, d.name, rr.position, rr.car_number, rr.laps_completed,
       rr.total_time_s::float AS total, rr.fastest_lap_s::float AS fastest, rr.fastest_lap_number,
       rr.grid_position, (SELECT count(*) FROM mre.laps l WHERE l.race_result_id = rr.race_result_id) AS lap_rows,
       (SELECT sum(lap_time_s)::float FROM mre.laps l WHERE l.race_result_id = rr.race_result_id) AS lap_sum
FROM mre.race_results rr JOIN mre.races r USING (race_id) JOIN mre.drivers d USING (driver_id)
ORDER BY r.source_race_id, rr.position
"""


@pytest.fixture
def captured_server(liverc_pages: Path) -> Iterator[FakeLiveRCServer]:
    with FakeLiveRCServer(captured_site(liverc_pages)) as server:
        yield server


@pytest.fixture
def resources(captured_server: FakeLiveRCServer, warehouse_url: str) -> dict[str, object]:
    return {
        "liverc": LiveRCResource(
            catalogue_url=captured_server.catalogue_url,
            track_url_template=captured_server.track_url_template,
            min_interval_s=0.0,
        ),
        "everlaps": EverlapsResource(),  # never called for a LiveRC partition
        "warehouse": WarehouseResource(url=warehouse_url),
    }


def _materialize(asset, instance, resources, partition_key=None, raise_on_error=True):
    return dg.materialize(
        ASSETS,
        selection=[asset],
        partition_key=partition_key,
        instance=instance,
        resources=resources,
        raise_on_error=raise_on_error,
    )


def _metadata(result: dg.ExecuteInProcessResult, key: str) -> dict[str, object]:
    [materialization] = result.asset_materializations_for_node(key)
    return {k: v.value for k, v in materialization.metadata.items()}


def _results(engine: sa.Engine) -> list[sa.Row]:
    with engine.connect() as conn:
        return conn.exec_driver_sql(RESULTS_SQL).all()


def test_catalogue_discovery_and_ingestion_match_ground_truth(
    clean_warehouse: sa.Engine, dagster_instance: dg.DagsterInstance, resources, liverc_pages: Path
) -> None:
    truth = json.loads((liverc_pages / "ground_truth.json").read_text())

    catalogue = _materialize(track_catalogue, dagster_instance, resources)
    meta = _metadata(catalogue, "track_catalogue")
    assert (meta["tracks_seen"], meta["tracks_new"], meta["tracks_deactivated"]) == (1090, 1090, 0)
    assert meta["requests_made"] == 2  # robots.txt + the catalogue

    dagster_instance.add_dynamic_partitions("track", ["liverc-canberraoffroad"])
    discovery = _materialize(track_events, dagster_instance, resources, "liverc-canberraoffroad")
    meta = _metadata(discovery, "track_events")
    assert (meta["events_seen"], meta["events_new"]) == (100, 100)
    assert (meta["first_event_date"], meta["last_event_date"]) == ("2017-09-10", "2025-11-16")

    dagster_instance.add_dynamic_partitions("event", [EVENT_KEY])
    ingestion = _materialize(event_results, dagster_instance, resources, EVENT_KEY)
    meta = _metadata(ingestion, "event_results")
    assert (meta["races"], meta["results"], meta["laps"], meta["entries"]) == (2, 22, 540, 0)
    assert "no entry list" in meta["warnings"]
    assert "FELIX KOEGLER" in meta["summary"] and "ARI BAKLA" in meta["summary"]
    checks = ingestion.get_asset_check_evaluations()
    assert len(checks) == 2 and all(c.passed for c in checks)

    rows = _results(clean_warehouse)
    assert len(rows) == 22
    for race_id in ("6304829", "6304822"):
        expected = truth["race_results"][race_id]["drivers"]
        got = [r for r in rows if str(r.source_race_id) == race_id]
        assert [r.position for r in got] == [d["position"] for d in expected]
        assert [r.name for r in got] == [d["driver_name"] for d in expected]
        assert [str(r.source_driver_id) for r in got] == [d["racerlaps_key"] for d in expected]
        assert [r.car_number for r in got] == [d["car_num"] for d in expected]
        assert [r.laps_completed for r in got] == [d["laps_excl_lap0"] for d in expected]
        assert [r.lap_rows for r in got] == [d["laps_excl_lap0"] for d in expected]
        for r, d in zip(got, expected, strict=True):
            assert r.fastest == (float(d["fastest_lap_cell"]) if d["fastest_lap_cell"] else None)
            assert r.fastest_lap_number == d["fastest_lap_no_cell"]
            if d["sum_lap_times"] is not None:
                assert r.total == pytest.approx(d["sum_lap_times"], abs=1e-6)
                assert r.lap_sum == pytest.approx(d["sum_lap_times"], abs=1e-6)
            else:
                assert r.total is None and r.lap_sum is None
    with clean_warehouse.connect() as conn:
        depth = conn.exec_driver_sql(
            "SELECT ingest_depth FROM mre.events WHERE source_event_id = 486677"
        ).scalar()
    assert depth == "laps_full"

    # Re-ingest (force): identical rows, nothing rewritten; discovery afterwards never downgrades depth.
    before = _results(clean_warehouse)
    again = _materialize(event_results, dagster_instance, resources, EVENT_KEY)
    changes = _metadata(again, "event_results")["changes"]
    assert all(v == {"inserted": 0, "updated": 0, "deleted": 0} for v in changes.values())
    assert _results(clean_warehouse) == before
    _materialize(track_events, dagster_instance, resources, "liverc-canberraoffroad")
    with clean_warehouse.connect() as conn:
        depth = conn.exec_driver_sql(
            "SELECT ingest_depth FROM mre.events WHERE source_event_id = 486677"
        ).scalar()
    assert depth == "laps_full"


def test_missing_race_page_fails_the_event_and_writes_nothing(
    clean_warehouse: sa.Engine,
    dagster_instance: dg.DagsterInstance,
    resources,
    captured_server: FakeLiveRCServer,
    liverc_pages: Path,
) -> None:
    use_event_page(captured_server.site, liverc_pages, "event-486677.html")  # 32 races, 30 answer 404
    _materialize(track_catalogue, dagster_instance, resources)
    with clean_warehouse.begin() as conn:
        request_id = queue.insert_request(conn, "ingest_event", "canberraoffroad", "486677")
        queue.mark_queued(conn, request_id, EVENT_KEY, "run requested")
    dagster_instance.add_dynamic_partitions("event", [EVENT_KEY])
    result = _materialize(event_results, dagster_instance, resources, EVENT_KEY, raise_on_error=False)
    assert not result.success
    with clean_warehouse.connect() as conn:
        row = queue.get_request(conn, request_id)
        races = conn.exec_driver_sql("SELECT count(*) FROM mre.races").scalar()
        events = conn.exec_driver_sql("SELECT count(*) FROM mre.events").scalar()
    assert (races, events) == (0, 0)
    assert row.status == "failed" and row.dagster_run_id == result.run_id
    # The first race the event page lists after the two captured ones is 6304825 (B3-Main).
    assert (
        "race 6304825 (Main Events, Race 12: 1/8 Electric Buggy B3-Main) could not be used"
        in row.status_detail
    )
    assert "HTTP 404" in row.status_detail and "view_race_result&id=6304825" in row.status_detail


def test_kill_switch_fails_without_any_request(
    clean_warehouse: sa.Engine,
    dagster_instance: dg.DagsterInstance,
    resources,
    captured_server: FakeLiveRCServer,
) -> None:
    resources = {
        **resources,
        "liverc": LiveRCResource(
            catalogue_url=captured_server.catalogue_url,
            track_url_template=captured_server.track_url_template,
            scrape_enabled=False,
        ),
    }
    result = _materialize(track_catalogue, dagster_instance, resources, raise_on_error=False)
    assert not result.success
    assert captured_server.requests == []
