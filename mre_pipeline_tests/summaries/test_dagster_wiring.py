"""The dbt models as Dagster assets: lineage from the LiveRC assets, the automation that builds them
after ingestion (not inside it), the dbt pool, and a real materialization whose dbt tests are checks.
"""

from __future__ import annotations

import dagster as dg
import pytest
import sqlalchemy as sa

from mre_pipeline.defs.resources import WarehouseResource
from mre_pipeline.defs.summaries import (
    AUTOMATION_SENSOR_NAME,
    DBT_POOL,
    dbt_resource,
    mre_summaries_dbt,
    summaries_definitions,
)
from mre_pipeline.warehouse.event_results import write_event
from mre_pipeline_tests.summaries.conftest import rows
from mre_pipeline_tests.summaries.synthetic import TRACK, synthetic_events

EVENT_PARTITIONS = dg.DynamicPartitionsDefinition(name="event")
TRACK_PARTITIONS = dg.DynamicPartitionsDefinition(name="track")
MODELS = [
    "stg_tracks",
    "stg_events",
    "stg_races",
    "stg_drivers",
    "stg_race_results",
    "stg_laps",
    "stg_event_entries",
    "driver_race_summary",
    "lap_progression",
    "driver_event_summary",
    "driver_track_history",
]


def key(model: str) -> dg.AssetKey:
    return dg.AssetKey(["mre_summaries", model])


def stub_defs() -> dg.Definitions:
    """Stand-ins for the LiveRC assets with their real names and partitioning."""
    return dg.Definitions(
        assets=[
            dg.AssetSpec("track_catalogue"),
            dg.AssetSpec("track_events", partitions_def=TRACK_PARTITIONS, deps=["track_catalogue"]),
            dg.AssetSpec(
                "event_results",
                partitions_def=EVENT_PARTITIONS,
                deps=[dg.AssetDep("track_events", partition_mapping=dg.AllPartitionMapping())],
            ),
        ]
    )


def merged_defs(url: str = "postgresql+psycopg2://postgres:@/unused?host=/nonexistent") -> dg.Definitions:
    return dg.Definitions.merge(stub_defs(), summaries_definitions({"warehouse": WarehouseResource(url=url)}))


def test_lineage_reads_catalogue_discovery_results_summaries() -> None:
    defs = merged_defs()
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    parents = {m: {k.to_user_string() for k in graph.get(key(m)).parent_keys} for m in MODELS}
    assert parents["stg_tracks"] == {"track_catalogue"}
    assert parents["stg_events"] == {"track_events"}
    for model in ("stg_races", "stg_drivers", "stg_race_results", "stg_laps", "stg_event_entries"):
        assert parents[model] == {"event_results"}, model
    assert key("driver_race_summary") in graph.get(key("lap_progression")).parent_keys
    upstream = graph.get_ancestor_asset_keys(key("driver_track_history"))
    assert {
        dg.AssetKey("track_catalogue"),
        dg.AssetKey("track_events"),
        dg.AssetKey("event_results"),
    } <= upstream


def test_dbt_tests_are_asset_checks_and_builds_share_one_pool() -> None:
    graph = merged_defs().resolve_asset_graph()
    checks_by_asset: dict[str, set[str]] = {}
    for check in graph.asset_check_keys:
        checks_by_asset.setdefault(check.asset_key.path[-1], set()).add(check.name)
    assert "assert_race_summary_matches_laps" in checks_by_asset["driver_race_summary"]
    assert "assert_lap_progression_leader_gap_zero" in checks_by_asset["lap_progression"]
    assert any(
        name.startswith("unique_driver_race_summary_race_result_id")
        for name in checks_by_asset["driver_race_summary"]
    )
    assert sum(len(v) for v in checks_by_asset.values()) >= 90
    assert mre_summaries_dbt.op.pool == DBT_POOL
    assert dbt_resource().dbt_executable.endswith("/dbt")


def test_automation_sensor_is_on_by_default_and_targets_only_the_models() -> None:
    defs = merged_defs()
    sensor = defs.resolve_sensor_def(AUTOMATION_SENSOR_NAME)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    targeted = sensor.asset_selection.resolve(defs.resolve_asset_graph())
    assert targeted == {key(m) for m in MODELS}


def _requested(result: dg.EvaluateAutomationConditionsResult) -> set[str]:
    return {r.key.path[-1] for r in result.results if r.true_subset.size > 0}


def _report(instance: dg.DagsterInstance, asset: str | dg.AssetKey, partition: str | None = None) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization(asset, partition=partition))


def test_summaries_build_after_any_event_partition_lands_despite_missing_partitions() -> None:
    defs = merged_defs()
    with dg.instance_for_test() as instance:
        # Several requested events, most never ingested: eager() would wait for them forever.
        instance.add_dynamic_partitions("event", ["canberraoffroad-486677", "othertrack-1", "othertrack-2"])
        instance.add_dynamic_partitions("track", ["canberraoffroad", "othertrack"])

        first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        assert _requested(first) == set(MODELS)  # never built: build once so the tables exist
        for model in MODELS:  # that build completes
            _report(instance, key(model))
        quiet = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
        assert _requested(quiet) == set()

        _report(instance, "event_results", "canberraoffroad-486677")
        after_ingest = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=quiet.cursor)
        requested = _requested(after_ingest)
        assert {"stg_laps", "stg_race_results", "driver_race_summary", "lap_progression"} <= requested
        assert {"driver_event_summary", "driver_track_history"} <= requested
        assert "stg_tracks" not in requested  # nothing it reads changed

        handled = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=after_ingest.cursor)
        assert _requested(handled) == set()  # requested once, not on every tick

        _report(instance, "event_results", "othertrack-2")  # a second event: another build
        again = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=handled.cursor)
        assert "driver_race_summary" in _requested(again)


def test_eager_would_not_fire_here() -> None:
    """Why the condition is not eager(): with unmaterialized dynamic partitions upstream it never fires."""
    downstream = dg.AssetSpec(
        "downstream", deps=["event_results"], automation_condition=dg.AutomationCondition.eager()
    )
    defs = dg.Definitions(assets=[dg.AssetSpec("event_results", partitions_def=EVENT_PARTITIONS), downstream])
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("event", ["a-1", "a-2"])
        _report(instance, "event_results", "a-1")
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        assert result.total_requested == 0


@pytest.fixture(scope="module")
def loaded_db(summaries_db: str, summaries_engine: sa.Engine) -> str:
    with summaries_engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO mre.tracks (slug, name) VALUES (:s, 'Test Track')"), {"s": TRACK})
    for detail, races in synthetic_events():
        with summaries_engine.begin() as conn:
            write_event(conn, detail, races, None)
    return summaries_db


def test_materialize_runs_dbt_build_with_checks(loaded_db: str, summaries_engine: sa.Engine) -> None:
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [mre_summaries_dbt],
            resources={"dbt": dbt_resource(), "warehouse": WarehouseResource(url=loaded_db)},
            instance=instance,
        )
        assert result.success
        materialized = {m.asset_key for m in result.get_asset_materialization_events()}
        assert materialized == {key(m) for m in MODELS}
        checks = result.get_asset_check_evaluations()
        assert len(checks) >= 90
        failed = [c.check_name for c in checks if not c.passed]
        assert failed == []
    assert rows(summaries_engine, "SELECT count(*) AS n FROM mre_summaries.driver_race_summary") == [{"n": 7}]
