"""The request sensor on a real Postgres queue and a real Dagster instance (one tick at a time)."""

from __future__ import annotations

import time
from datetime import date
from unittest import mock

import dagster as dg
import pytest
import sqlalchemy as sa
from dagster._core.storage.tags import (
    AUTO_RETRY_RUN_ID_TAG,
    RETRY_NUMBER_TAG,
    RUN_FAILURE_REASON_TAG,
    WILL_RETRY_TAG,
)

from mre_pipeline.connectors.records import TrackRecord
from mre_pipeline.defs import request_status
from mre_pipeline.defs.request_sensor import ingestion_request_sensor
from mre_pipeline.defs.request_status import Finished, StillRunning, run_outcome
from mre_pipeline.defs.resources import WarehouseResource
from mre_pipeline.fake_everlaps.generator import generate_event
from mre_pipeline.warehouse import requests as queue
from mre_pipeline.warehouse.catalogue import upsert_catalogue
from mre_pipeline.warehouse.event_results import write_event
from mre_pipeline_tests.faults.service import as_webapp
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
    assert "request_type 'scrape_all' is unknown" in _status(warehouse, ids["unknown type"])[1]
    assert "not in the LiveRC track catalogue" in _status(warehouse, ids["unknown track"])[1]
    assert [(r.run_key, r.partition_key, r.asset_selection) for r in result.run_requests] == [
        (f"request-{good}", "liverc-canberraoffroad-486677", [dg.AssetKey("event_results")])
    ]
    assert result.run_requests[0].tags["mre/request_id"] == str(good)
    [add] = result.dynamic_partitions_requests
    assert (add.partitions_def_name, list(add.partition_keys)) == ("event", ["liverc-canberraoffroad-486677"])
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
        "event": ["liverc-testtrack-1001"],
        "track": ["liverc-testtrack"],
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
    assert detail == (
        f"an internal error stopped the work; an operator can see the details in Dagster run {crash_run.run_id}"
    )


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
        assert detail.startswith("an internal error stopped the work")


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
    assert detail == "this request could not be queued because of an internal error; submit it again"
    assert _status(warehouse, long_name)[0] == "queued"
    assert _status(warehouse, good)[0] == "queued"
    assert sorted(r.run_key for r in result.run_requests) == [f"request-{long_name}", f"request-{good}"]
    long_tags = next(r.tags for r in result.run_requests if r.run_key == f"request-{long_name}")
    assert "mre/requested_by" not in long_tags, "who asked stays in the queue, not in Dagster tags"


def test_only_ascii_digits_make_an_event_id(
    warehouse: sa.Engine, warehouse_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    with warehouse.begin() as conn:
        arabic = queue.insert_request(conn, "ingest_event", "testtrack", "\u0663\u0664")  # Arabic-Indic 34
    _tick(dagster_instance, warehouse_url)
    status, detail, _ = _status(warehouse, arabic)
    assert status == "rejected" and "is not a numeric event id" in detail


def _fail_as_crash(
    instance: dg.DagsterInstance, run_id: str, *, will_retry: bool, retry_number: int = 0
) -> None:
    """Make a failed run look like one whose worker died (what run monitoring reports)."""
    tags = {
        RUN_FAILURE_REASON_TAG: "UNEXPECTED_TERMINATION",
        WILL_RETRY_TAG: str(will_retry).lower(),
        RETRY_NUMBER_TAG: str(retry_number),
    }
    instance.add_run_tags(run_id, tags)


def test_a_crashed_run_is_followed_to_its_retry_and_the_request_ends_with_the_retry(
    warehouse: sa.Engine, warehouse_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    with warehouse.begin() as conn:
        request_id = queue.insert_request(conn, "ingest_event", "testtrack", "88")
    _tick(dagster_instance, warehouse_url)
    first = dg.materialize(
        [crashing_asset],
        instance=dagster_instance,
        tags={"dagster/run_key": f"request-{request_id}"},
        raise_on_error=False,
    )
    _fail_as_crash(dagster_instance, first.run_id, will_retry=True)
    _tick(dagster_instance, warehouse_url)
    status, detail, run_id = _status(warehouse, request_id)
    assert (status, run_id) == ("queued", first.run_id), "waits while Dagster has not launched the retry yet"

    retry = dg.materialize([crashing_asset], instance=dagster_instance, raise_on_error=False)
    dagster_instance.add_run_tags(first.run_id, {AUTO_RETRY_RUN_ID_TAG: retry.run_id})
    _fail_as_crash(dagster_instance, retry.run_id, will_retry=False, retry_number=1)
    _tick(dagster_instance, warehouse_url)  # follows the retry...
    _tick(dagster_instance, warehouse_url)  # ...and settles with its outcome
    status, detail, run_id = _status(warehouse, request_id)
    assert (status, run_id) == ("failed", retry.run_id)
    assert detail == (
        "the ingestion was interrupted twice (the service restarted or a worker process stopped); try again later"
    )


def test_a_new_request_never_attaches_to_a_finished_run(
    warehouse: sa.Engine, warehouse_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    with warehouse.begin() as conn:
        old = queue.insert_request(conn, "ingest_event", "testtrack", "99")
    _tick(dagster_instance, warehouse_url)
    dead = dg.materialize(
        [crashing_asset],
        instance=dagster_instance,
        tags={"dagster/run_key": f"request-{old}"},
        raise_on_error=False,
    )
    _fail_as_crash(dagster_instance, dead.run_id, will_retry=True)  # retry pending: old stays active
    with warehouse.begin() as conn:
        new = queue.insert_request(conn, "ingest_event", "testtrack", "99")
    result = _tick(dagster_instance, warehouse_url)
    assert [r.run_key for r in result.run_requests] == [f"request-{new}"]
    assert _status(warehouse, new)[1] == f"run requested (run key request-{new})"


def test_requests_wait_for_a_first_catalogue_without_blocking_other_sources(
    clean_warehouse: sa.Engine, warehouse_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    with clean_warehouse.begin() as conn:
        waiting = queue.insert_request(conn, "ingest_event", "canberraoffroad", "486677")
        other = queue.insert_request(conn, "ingest_event", None, "3702", source="everlaps")
    first = _tick(dagster_instance, warehouse_url)
    status, detail, _ = _status(clean_warehouse, waiting)
    assert (status, detail) == (
        "pending",
        "waiting for the LiveRC track catalogue, which is being fetched for the first time",
    )
    assert [(r.run_key, r.partition_key) for r in first.run_requests] == [
        (f"request-{other}", "everlaps-3702")
    ]
    assert _status(clean_warehouse, other)[0] == "queued"
    with clean_warehouse.begin() as conn:
        upsert_catalogue(conn, "liverc", [TrackRecord("liverc", "canberraoffroad", "Canberra", "idle")])
    result = _tick(dagster_instance, warehouse_url)
    assert [r.run_key for r in result.run_requests] == [f"request-{waiting}"]


def test_requests_that_waited_too_long_for_the_catalogue_are_rejected(
    clean_warehouse: sa.Engine, warehouse_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    with clean_warehouse.begin() as conn:
        stale = queue.insert_request(conn, "discover_events", "canberraoffroad")
        conn.execute(
            sa.text(
                "UPDATE mre.ingestion_requests SET created_at = now() - interval '31 minutes' WHERE request_id = :i"
            ),
            {"i": stale},
        )
    _tick(dagster_instance, warehouse_url)
    assert _status(clean_warehouse, stale)[:2] == (
        "rejected",
        "the LiveRC track catalogue has not been fetched yet, so track 'canberraoffroad' cannot be checked; "
        "try again later",
    )


WEB_APP_EVERLAPS_INSERT = (
    "INSERT INTO mre.ingestion_requests (source, request_type, source_event_id) "
    "VALUES ('everlaps', 'ingest_event', '3702')"
)


def test_the_web_apps_everlaps_request_launches_an_event_run(
    clean_warehouse: sa.Engine, warehouse_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    """The issue's contract, inserted as role mre_webapp: no track slug, no catalogue needed."""
    webapp = as_webapp(warehouse_url)
    try:
        with webapp.engine.begin() as conn:
            [request_id, attached] = [
                conn.exec_driver_sql(WEB_APP_EVERLAPS_INSERT + " RETURNING request_id").scalar_one()
                for _ in range(2)
            ]
    finally:
        webapp.dispose()

    result = _tick(dagster_instance, warehouse_url)

    [run] = result.run_requests
    assert (run.run_key, run.partition_key, run.asset_selection) == (
        f"request-{request_id}",
        "everlaps-3702",
        [dg.AssetKey("event_results")],
    )
    assert {k: v for k, v in run.tags.items() if k.startswith("mre/")} == {
        "mre/request_id": str(request_id),
        "mre/request_type": "ingest_event",
        "mre/source": "everlaps",
        "mre/event_id": "3702",
    }
    [add] = result.dynamic_partitions_requests
    assert (add.partitions_def_name, list(add.partition_keys)) == ("event", ["everlaps-3702"])
    with clean_warehouse.connect() as conn:
        row = queue.get_request(conn, request_id)
    assert (row.status, row.partition_key, row.track_slug) == ("queued", "everlaps-3702", None)
    assert _status(clean_warehouse, attached)[:2] == (
        "queued",
        f"attached to request {request_id}, already queued or running for everlaps-3702",
    )


def test_an_ingested_everlaps_event_succeeds_at_once(
    clean_warehouse: sa.Engine, warehouse_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    event = generate_event(5, classes=1, drivers_per_class=4, qualifying_rounds=1, semi_series=0)
    with clean_warehouse.begin() as conn:
        write_event(conn, event.detail, list(event.results.values()), None)
        done = queue.insert_request(conn, "ingest_event", None, str(event.event_id), source="everlaps")
    result = _tick(dagster_instance, warehouse_url)
    assert result.run_requests == []
    status, detail, run_id = _status(clean_warehouse, done)
    assert status == "succeeded" and run_id is None and "already fully ingested" in detail


def test_a_failed_run_is_not_final_until_dagster_has_decided_whether_to_retry_it() -> None:
    """Dagster marks a run failed, then adds ``dagster/will_retry``: a request read in between must wait."""
    with dg.instance_for_test(
        overrides={"run_retries": {"enabled": True, "max_retries": 1, "retry_on_asset_or_op_failure": False}}
    ) as instance:
        failed = dg.materialize([crashing_asset], instance=instance, raise_on_error=False)
        run = instance.get_run_by_id(failed.run_id)
        assert run.tags[WILL_RETRY_TAG] == "false"  # a step failure: retry_on_asset_or_op_failure is off
        undecided = run.with_tags({k: v for k, v in run.tags.items() if k != WILL_RETRY_TAG})
        assert run_outcome(instance, undecided, run.run_id) == StillRunning()
        assert isinstance(run_outcome(instance, run, run.run_id), Finished)
        with mock.patch.object(request_status.time, "time", return_value=time.time() + 61):
            assert isinstance(run_outcome(instance, undecided, run.run_id), Finished)  # bounded wait
    with dg.instance_for_test() as no_retries:
        failed = dg.materialize([crashing_asset], instance=no_retries, raise_on_error=False)
        run = no_retries.get_run_by_id(failed.run_id)
        assert WILL_RETRY_TAG not in run.tags
        assert isinstance(run_outcome(no_retries, run, run.run_id), Finished)  # no retry will come
