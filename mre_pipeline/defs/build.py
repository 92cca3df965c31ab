"""Assemble the Definitions object from each concern's module."""

from __future__ import annotations

import dagster as dg

from mre_pipeline.connectors.everlaps.resource import EverlapsResource
from mre_pipeline.connectors.liverc.resource import LiveRCResource
from mre_pipeline.defs.assets import event_results, track_catalogue, track_events
from mre_pipeline.defs.catalogue_bootstrap import track_catalogue_bootstrap_sensor
from mre_pipeline.defs.event_refresh import event_final_refresh_sensor
from mre_pipeline.defs.request_sensor import ingestion_request_sensor
from mre_pipeline.defs.resources import WarehouseResource
from mre_pipeline.defs.schedules import track_catalogue_job, track_catalogue_schedule


def pipeline_definitions(resources: dict[str, object] | None = None) -> dg.Definitions:
    """The LiveRC assets, sensor and schedule; ``resources`` overrides the defaults (tests)."""
    return dg.Definitions(
        assets=[track_catalogue, track_events, event_results],
        # One process per run: the run worker executes the step itself, no second process to start (and to
        # orphan if the worker is killed).
        executor=dg.in_process_executor,
        jobs=[track_catalogue_job],
        schedules=[track_catalogue_schedule],
        sensors=[ingestion_request_sensor, track_catalogue_bootstrap_sensor, event_final_refresh_sensor],
        resources={
            "liverc": LiveRCResource(),
            "everlaps": EverlapsResource(),
            "warehouse": WarehouseResource(),
            **(resources or {}),
        },
    )


def build_definitions() -> dg.Definitions:
    """The `mre_pipeline` code location: LiveRC ingestion only. The dbt lap summaries downstream of it are
    the `mre_summaries` location (mre_pipeline/summaries_definitions.py), so that every process that loads
    this one (each ingestion run) skips dagster-dbt and the dbt manifest."""
    return pipeline_definitions()
