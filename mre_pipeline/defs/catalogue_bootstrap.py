"""A fresh install fetches the track catalogue by itself instead of waiting for the daily schedule.

Every tick is one indexed query on the warehouse (never HTTP): while ``mre.tracks`` has no active LiveRC
track and no catalogue run is queued or running, it launches ``track_catalogue_job`` (the same job as the
schedule, so lineage and the ``timing_sources`` pool hold). A failed attempt (LiveRC down, scraping disabled) is
retried at most every ``RETRY_AFTER_S``.
"""

from __future__ import annotations

import time

import dagster as dg

from mre_pipeline import settings
from mre_pipeline.defs.resources import WarehouseResource
from mre_pipeline.defs.schedules import track_catalogue_job
from mre_pipeline.warehouse.catalogue_state import has_active_tracks

SENSOR_NAME = "track_catalogue_bootstrap_sensor"
SOURCE = "liverc"
RETRY_AFTER_S = 15 * 60
IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


@dg.sensor(
    name=SENSOR_NAME,
    job=track_catalogue_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Fetches the LiveRC track catalogue when mre.tracks has no active track (a fresh install).",
)
def track_catalogue_bootstrap_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource
) -> dg.SensorResult | dg.SkipReason:
    with warehouse.get_engine().connect() as conn:
        if has_active_tracks(conn, SOURCE):
            return dg.SkipReason("the catalogue has tracks; the daily schedule keeps it fresh")
    if not settings.env_flag("MRE_SCRAPE_ENABLED", True):
        return dg.SkipReason("the catalogue is empty but scraping is disabled (MRE_SCRAPE_ENABLED=0)")
    in_flight = context.instance.get_run_records(
        dg.RunsFilter(job_name=track_catalogue_job.name, statuses=IN_FLIGHT), limit=1
    )
    if in_flight:
        return dg.SkipReason(f"the catalogue is empty; run {in_flight[0].dagster_run.run_id} is fetching it")
    last_launch = float(context.cursor or 0)
    now = time.time()
    if now - last_launch < RETRY_AFTER_S:
        return dg.SkipReason(
            f"the catalogue is still empty; the last attempt was {now - last_launch:.0f} s ago, "
            f"the next one is after {RETRY_AFTER_S} s"
        )
    return dg.SensorResult(
        run_requests=[dg.RunRequest(tags={"mre/trigger": "catalogue-bootstrap"})], cursor=str(now)
    )
