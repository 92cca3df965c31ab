"""Dagster's own validation of the code location, as `dagster dev` would load it (top-level dagster.yaml)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import dagster as dg

from mre_pipeline import settings
from mre_pipeline.definitions import defs
from mre_pipeline_tests.dagster_process import BIN


def test_dagster_definitions_validate(warehouse_url: str, dagster_storage_url: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "MRE_DATABASE_URL": warehouse_url,
        "MRE_DAGSTER_DATABASE_URL": dagster_storage_url,
        "MRE_DAGSTER_ARTIFACTS_DIR": str(tmp_path / "storage"),
        "MRE_DAGSTER_COMPUTE_LOGS_DIR": str(tmp_path / "logs"),
    }
    env.pop("DAGSTER_HOME", None)
    result = subprocess.run(
        [str(BIN / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=settings.PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All code locations passed validation" in result.stdout + result.stderr


def test_code_location_contents() -> None:
    """The names other parties depend on: assets, partitions, sensor and schedule on by default."""
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"track_catalogue", "track_events", "event_results"} <= keys
    assert {"mre_summaries/driver_race_summary", "mre_summaries/lap_progression"} <= keys
    assert graph.get(dg.AssetKey("track_catalogue")).partitions_def is None
    assert graph.get(dg.AssetKey("track_events")).partitions_def.name == "track"
    assert graph.get(dg.AssetKey("event_results")).partitions_def.name == "event"
    assert (
        defs.resolve_sensor_def("ingestion_request_sensor").default_status == dg.DefaultSensorStatus.RUNNING
    )
    schedule = defs.resolve_schedule_def("track_catalogue_daily")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    for key in ("track_catalogue", "track_events", "event_results"):
        assert graph.get(dg.AssetKey(key)).pools == {"liverc"}
