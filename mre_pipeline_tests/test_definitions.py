"""Dagster's own validation of the two code locations, as `dagster dev` loads them (workspace.yaml and the
top-level dagster.yaml), their contents, and the lineage that crosses them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import WorkspaceFileTarget

from mre_pipeline import settings
from mre_pipeline.definitions import defs
from mre_pipeline.summaries_definitions import defs as summaries_defs
from mre_pipeline_tests.dagster_process import BIN

SUMMARY = dg.AssetKey(["mre_summaries", "driver_race_summary"])


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
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "All code locations passed validation" in output
    assert "mre_pipeline" in output and "mre_summaries" in output


def test_code_location_contents() -> None:
    """The names other parties depend on: assets, partitions, sensors and schedule on by default."""
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == {"track_catalogue", "track_events", "event_results"}  # no dbt in the ingestion location
    assert graph.get(dg.AssetKey("track_catalogue")).partitions_def is None
    assert graph.get(dg.AssetKey("track_events")).partitions_def.name == "track"
    assert graph.get(dg.AssetKey("event_results")).partitions_def.name == "event"
    assert (
        defs.resolve_sensor_def("ingestion_request_sensor").default_status == dg.DefaultSensorStatus.RUNNING
    )
    schedule = defs.resolve_schedule_def("track_catalogue_daily")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    for key in ("track_catalogue", "track_events", "event_results"):
        assert graph.get(dg.AssetKey(key)).pools == {"timing_sources"}

    summaries_graph = summaries_defs.resolve_asset_graph()
    assert SUMMARY in summaries_graph.get_all_asset_keys()
    assert summaries_graph.get(SUMMARY).pools == {"dbt"}
    sensor = summaries_defs.resolve_sensor_def("summaries_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_ingestion_location_never_imports_dagster_dbt() -> None:
    """Every event run loads the `mre_pipeline` location: it must not pay for dagster-dbt or the manifest."""
    code = (
        "import sys, mre_pipeline.definitions\n"
        "print(sorted(m for m in sys.modules if m in ('dbt', 'dagster_dbt') "
        "or m.startswith(('dbt.', 'dagster_dbt.', 'mre_pipeline.summaries'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout


def test_lineage_crosses_the_two_code_locations() -> None:
    """In the loaded workspace (what the UI shows), event_results in `mre_pipeline` feeds the dbt staging
    models in `mre_summaries`, and track_events / track_catalogue feed theirs."""
    with (
        dg.instance_for_test() as instance,
        WorkspaceProcessContext(
            instance, WorkspaceFileTarget(paths=[str(settings.PROJECT_ROOT / "workspace.yaml")])
        ) as workspace,
    ):
        request = workspace.create_request_context()
        errors = {name: entry.load_error for name, entry in request.get_code_location_entries().items()}
        assert errors == {"mre_pipeline": None, "mre_summaries": None}
        graph = request.asset_graph
        event_results = graph.get(dg.AssetKey("event_results"))
        assert event_results.is_materializable
        assert graph.get_repository_handle(event_results.key).location_name == "mre_pipeline"
        stg_laps = dg.AssetKey(["mre_summaries", "stg_laps"])
        assert graph.get(stg_laps).parent_keys == {event_results.key}
        assert graph.get_repository_handle(stg_laps).location_name == "mre_summaries"
        assert stg_laps in event_results.child_keys
        assert graph.get(dg.AssetKey(["mre_summaries", "stg_events"])).parent_keys == {
            dg.AssetKey("track_events")
        }
        assert dg.AssetKey("event_results") in graph.get_ancestor_asset_keys(SUMMARY)
