"""The request sensor on a real Postgres queue and a real Dagster instance (one tick at a time)."""

from __future__ import annotations

from datetime import date

import dagster as dg
import pytest
import sqlalchemy as sa

from mre_pipeline.connectors.records import TrackRecord
from mre_pipeline.defs.request_sensor import ingestion_request_sensor
from mre_pipeline.defs.resources import WarehouseResource
from mre_pipeline.warehouse import requests as queue
from mre_pipeline.warehouse.catalogue import upsert_catalogue
from mre_pipeline.warehouse.event_results import write_event
from mre_pipeline_tests.records_factory import small_event


@pytest.fixture
def warehouse(clean_warehouse: sa.Engine) -> sa.Engine:
    with clean_warehouse.begin() as conn:
        upsert_catalogue(
            conn,
            "liverc",
            [
                TrackRecord("liverc", "canberraoffroad", "Canberra", "idle"),
                TrackRecord("liverc", "testtrack", "T", "idle"),
            ],
        )
    return clean_warehouse


def _insert(engine: sa.Engine, sql: str, **params) -> int:
    with engine.begin() as conn:
        return conn.execute(sa.text(sql + " RETURNING request_id"), params).scalar_one()


def _tick(instance: dg.DagsterInstance, warehouse_url: str) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=instance, resources={"warehouse": WarehouseResource(url=warehouse_url)}
    )
    return ingestion_request_sensor(context)


def _status(engine: sa.Engine, request_id: int) -> tuple[str, str | None, str | None]:
    with engine.connect() as conn:
        row = queue.get_request(conn, request_id)
    return row.status, row.status_detail, row.dagster_run_id


def test_bad_rows_rejected_and_good_row_launched_in_same_tick(
    warehouse: sa.Engine, warehouse_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    insert = "INSERT INTO mre.ingestion_requests (request_type, track_slug, source_event_id, held_between_start, held_between_end) VALUES (:t, :s, :e, :a, :b)"
    bad = {
        "unknown type": dict(t="scrape_all", s="canberraoffroad", e="1", a=None, b=None),
        "empty slug": dict(t="discover_events", s="", e=None, a=None, b=None),
        "slash": dict(t="discover_events", s="canberra/offroad", e=None, a=None, b=None),
        "dot": dict(t="ingest_event", s="canberraoffroad.evil.com", e="486677", a=None, b=None),
        "non-numeric": dict(t="ingest_event", s="canberraoffroad", e="486677; drop table", a=None, b=None),
        "end before start": dict(
            t="discover_events", s="canberraoffroad", e=None, a=date(2025, 5, 1), b=date(2025, 4, 1)
        ),
        "unknown track": dict(t="discover_events", s="atlantis", e=None, a=None, b=None),
    }
    ids = {name: _insert(warehouse, insert, **params) for name, params in bad.items()}
    good = _insert(warehouse, insert, t="ingest_event", s="CanberraOffroad", e=" 486677 ", a=None, b=None)

    result = _tick(dagster_instance, warehouse_url)

    for name, request_id in ids.items():
        status, detail, run_id = _status(warehouse, request_id)
        assert status == "rejected", name
        assert detail and run_id is None, name
    assert "unknown request_type 'scrape_all'" in _status(warehouse, ids["unknown type"])[1]
    assert "not in the LiveRC track catalogue" in _status(warehouse, ids["unknown track"])[1]
    assert [(r.run_key, r.partition_key, r.asset_selection) for r in result.run_requests] == [
        (f"request-{good}", "canberraoffroad-486677", [dg.AssetKey("event_results")])
    ]
    assert result.run_requests[0].tags["mre/request_id"] == str(good)
    [add] = result.dynamic_partitions_requests
    assert (add.partitions_def_name, list(add.partition_keys)) == ("event", ["canberraoffroad-486677"])
    assert _status(warehouse, good)[0] == "queued"

    second = _tick(dagster_instance, warehouse_url)
    assert second.run_requests == [], "a queued row is never launched twice"


def test_duplicate_and_already_ingested_requests(
    warehouse: sa.Engine, warehouse_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    detail, races, entries = small_event("testtrack", 1001)
    with warehouse.begin() as conn:
        write_event(conn, detail, races, entries)
        done = queue.insert_request(conn, "ingest_event", "testtrack", "1001")
        forced = queue.insert_request(conn, "ingest_event", "testtrack", "1001", force=True)
        forced_again = queue.insert_request(conn, "ingest_event", "testtrack", "1001", force=True)
        discover = queue.insert_request(conn, "discover_events", "testtrack")
    result = _tick(dagster_instance, warehouse_url)
    status, detail_text, run_id = _status(warehouse, done)
    assert status == "succeeded" and run_id is None
    assert "already fully ingested" in detail_text and "set force to re-ingest" in detail_text
    assert _status(warehouse, forced)[0] == "queued"
    assert _status(warehouse, forced_again)[0] == "queued"
    assert f"attached to request {forced}" in _status(warehouse, forced_again)[1]
    assert sorted(r.run_key for r in result.run_requests) == sorted(
        [f"request-{forced}", f"request-{discover}"]
    )
    assert {r.partitions_def_name: list(r.partition_keys) for r in result.dynamic_partitions_requests} == {
        "event": ["testtrack-1001"],
        "track": ["testtrack"],
    }


@dg.asset
def crashing_asset() -> None:
    raise RuntimeError("worker process died")


def test_reconcile_fills_run_ids_and_settles_runs_that_ended_without_settling(
    warehouse: sa.Engine, warehouse_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    with warehouse.begin() as conn:
        ok_id = queue.insert_request(conn, "discover_events", "testtrack")
        crash_id = queue.insert_request(conn, "discover_events", "canberraoffroad")
    _tick(dagster_instance, warehouse_url)  # both queued, runs not yet created

    @dg.asset
    def fine_asset() -> None:
        return None

    ok_run = dg.materialize(
        [fine_asset], instance=dagster_instance, tags={"dagster/run_key": f"request-{ok_id}"}
    )
    crash_run = dg.materialize(
        [crashing_asset],
        instance=dagster_instance,
        tags={"dagster/run_key": f"request-{crash_id}"},
        raise_on_error=False,
    )
    _tick(dagster_instance, warehouse_url)  # fills run ids, and settles both (runs already over)
    status, detail, run_id = _status(warehouse, ok_id)
    assert (status, run_id) == ("succeeded", ok_run.run_id)
    status, detail, run_id = _status(warehouse, crash_id)
    assert (status, run_id) == ("failed", crash_run.run_id)
    assert f"Dagster run {crash_run.run_id} failed before settling the request" in detail
    assert "worker process died" in detail


def test_attached_requests_share_the_run_and_its_outcome(
    warehouse: sa.Engine, warehouse_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    """A duplicate attaches before the run exists; when the run dies early, both requests learn why."""
    with warehouse.begin() as conn:
        primary = queue.insert_request(conn, "ingest_event", "testtrack", "77")
        duplicate = queue.insert_request(conn, "ingest_event", "testtrack", "77")
    result = _tick(dagster_instance, warehouse_url)
    assert [r.run_key for r in result.run_requests] == [f"request-{primary}"]
    assert f"attached to request {primary}" in _status(warehouse, duplicate)[1]
    crash = dg.materialize(
        [crashing_asset],
        instance=dagster_instance,
        tags={"dagster/run_key": f"request-{primary}"},
        raise_on_error=False,
    )
    _tick(dagster_instance, warehouse_url)
    for request_id in (primary, duplicate):
        status, detail, run_id = _status(warehouse, request_id)
        assert (status, run_id) == ("failed", crash.run_id)
        assert "worker process died" in detail


def test_a_tick_survives_a_row_that_breaks_the_database_write(
    warehouse: sa.Engine,
    warehouse_url: str,
    dagster_instance: dg.DagsterInstance,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A row whose queue update raises is rejected with the error; the other rows still launch."""
    with warehouse.begin() as conn:
        broken = queue.insert_request(conn, "ingest_event", "testtrack", "5")
        long_name = queue.insert_request(conn, "ingest_event", "testtrack", "6", requested_by="x" * 5000)
        good = queue.insert_request(conn, "discover_events", "testtrack")
    real_mark_queued = queue.mark_queued

    def flaky_mark_queued(conn, request_id, *args, **kwargs):
        if request_id == broken:
            conn.exec_driver_sql("SELECT 1/0")  # a real database error inside the row's savepoint
        return real_mark_queued(conn, request_id, *args, **kwargs)

    monkeypatch.setattr(queue, "mark_queued", flaky_mark_queued)
    result = _tick(dagster_instance, warehouse_url)
    status, detail, _ = _status(warehouse, broken)
    assert status == "rejected"
    assert detail.startswith("internal error while queueing (DataError: (psycopg2.errors.DivisionByZero)")
    assert _status(warehouse, long_name)[0] == "queued"
    assert _status(warehouse, good)[0] == "queued"
    assert sorted(r.run_key for r in result.run_requests) == [f"request-{long_name}", f"request-{good}"]
    long_tags = next(r.tags for r in result.run_requests if r.run_key == f"request-{long_name}")
    assert len(long_tags["mre/requested_by"]) == 200


def test_only_ascii_digits_make_an_event_id(
    warehouse: sa.Engine, warehouse_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    with warehouse.begin() as conn:
        arabic = queue.insert_request(conn, "ingest_event", "testtrack", "\u0663\u0664")  # Arabic-Indic 34
    _tick(dagster_instance, warehouse_url)
    status, detail, _ = _status(warehouse, arabic)
    assert status == "rejected" and "is not a numeric LiveRC event id" in detail
