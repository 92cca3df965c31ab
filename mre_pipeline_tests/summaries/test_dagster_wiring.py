"""The dbt models as Dagster assets: lineage from the LiveRC assets, descriptions and column types, the dbt
pool, and a real materialization whose dbt tests are checks (the sensor is tested in test_summaries_sensor).
"""

from __future__ import annotations

import dagster as dg
import pytest
import sqlalchemy as sa

from mre_pipeline.defs.resources import WarehouseResource
from mre_pipeline.defs.summaries import DBT_POOL, dbt_resource, mre_summaries_dbt, summaries_definitions
from mre_pipeline.warehouse.event_results import write_event
from mre_pipeline_tests.summaries.conftest import rows
from mre_pipeline_tests.summaries.synthetic import TRACK, synthetic_events

EVENT_PARTITIONS = dg.DynamicPartitionsDefinition(name="event")
TRACK_PARTITIONS = dg.DynamicPartitionsDefinition(name="track")
STATE = ["summary_batch", "summary_batch_history_keys", "summary_watermark"]
MARTS = ["driver_race_summary", "lap_progression", "driver_event_summary", "driver_track_history"]
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
    *STATE,
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
    assert sum(len(v) for v in checks_by_asset.values()) >= 100
    assert mre_summaries_dbt.op.pool == DBT_POOL
    assert dbt_resource().dbt_executable.endswith("/dbt")


def test_every_asset_is_described_in_words_with_typed_columns() -> None:
    graph = merged_defs().resolve_asset_graph()
    for model in MODELS:
        node = graph.get(key(model))
        assert node.description and "select" not in node.description.lower(), model
        schema = node.metadata.get("dagster/column_schema")
        assert schema and schema.columns, model
        assert all(c.type and c.description for c in schema.columns), model
    race_columns = {
        c.name: c.type
        for c in graph.get(key("driver_race_summary")).metadata["dagster/column_schema"].columns
    }
    assert (race_columns["race_result_id"], race_columns["best_lap_s"], race_columns["started"]) == (
        "bigint",
        "numeric",
        "boolean",
    )


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
        assert len(checks) >= 100
        failed = [c.check_name for c in checks if not c.passed]
        assert failed == []
    assert rows(summaries_engine, "SELECT count(*) AS n FROM mre_summaries.driver_race_summary") == [{"n": 7}]
