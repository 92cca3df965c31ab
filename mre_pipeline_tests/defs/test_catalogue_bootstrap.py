"""A fresh install fetches the catalogue by itself: the bootstrap sensor, one tick at a time."""

from __future__ import annotations

import uuid

import dagster as dg
import pytest
import sqlalchemy as sa

from mre_pipeline.connectors.records import TrackRecord
from mre_pipeline.defs.catalogue_bootstrap import RETRY_AFTER_S, track_catalogue_bootstrap_sensor
from mre_pipeline.defs.resources import WarehouseResource
from mre_pipeline.warehouse.catalogue import upsert_catalogue


def _tick(instance: dg.DagsterInstance, warehouse_url: str, cursor: str | None = None):
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"warehouse": WarehouseResource(url=warehouse_url)}
    )
    return track_catalogue_bootstrap_sensor(context)


def test_empty_catalogue_launches_the_catalogue_job_once(
    clean_warehouse: sa.Engine, warehouse_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    result = _tick(dagster_instance, warehouse_url)
    assert isinstance(result, dg.SensorResult)
    [run_request] = result.run_requests
    assert run_request.tags == {"mre/trigger": "catalogue-bootstrap"}
    assert track_catalogue_bootstrap_sensor.job_name == "track_catalogue_job"

    # While the run is in flight, the next tick leaves it alone.
    run = dagster_instance.add_run(
        dg.DagsterRun(
            job_name="track_catalogue_job", run_id=str(uuid.uuid4()), status=dg.DagsterRunStatus.STARTED
        )
    )
    skipped = _tick(dagster_instance, warehouse_url)
    assert isinstance(skipped, dg.SkipReason) and run.run_id in skipped.skip_message

    # It failed: the next attempt waits RETRY_AFTER_S after the last one (the cursor), then goes again.
    dagster_instance.report_run_failed(run)
    waiting = _tick(dagster_instance, warehouse_url, cursor=result.cursor)
    assert isinstance(waiting, dg.SkipReason) and "last attempt" in waiting.skip_message
    stale_cursor = str(float(result.cursor) - RETRY_AFTER_S - 1)
    again = _tick(dagster_instance, warehouse_url, cursor=stale_cursor)
    assert isinstance(again, dg.SensorResult) and len(again.run_requests) == 1


def test_catalogue_present_or_scraping_off_launches_nothing(
    clean_warehouse: sa.Engine,
    warehouse_url: str,
    dagster_instance: dg.DagsterInstance,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MRE_SCRAPE_ENABLED", "0")
    off = _tick(dagster_instance, warehouse_url)
    assert isinstance(off, dg.SkipReason) and "MRE_SCRAPE_ENABLED=0" in off.skip_message
    monkeypatch.delenv("MRE_SCRAPE_ENABLED")
    with clean_warehouse.begin() as conn:
        upsert_catalogue(conn, "liverc", [TrackRecord("liverc", "testtrack", "Test Track", "idle")])
    present = _tick(dagster_instance, warehouse_url)
    assert isinstance(present, dg.SkipReason) and "has tracks" in present.skip_message
