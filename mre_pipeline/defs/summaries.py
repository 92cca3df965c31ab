"""dbt lap summaries as Dagster assets, built after ingestion and never inside an event's run.

Every dbt model is an asset downstream of the asset that writes its source tables (sources carry
``meta.dagster.asset_key``), every dbt test is an asset check. Builds are requested by an automation
condition evaluated by this module's own sensor, run in pool ``dbt`` (one slot: concurrent ``dbt build``
on Postgres deadlocks) and wait until no upstream partition is being ingested, so a batch of event
ingestions leads to one build at its end rather than one per event.

Merge into the code location with ``dg.Definitions.merge(pipeline_definitions(...), summaries_definitions())``;
the assets use the ``warehouse`` resource the pipeline definitions already provide.
"""

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from mre_pipeline.defs.resources import WarehouseResource
from mre_pipeline.summaries.dbt_env import PROJECT_DIR, dbt_environment, dbt_executable
from mre_pipeline.summaries.manifest import ensure_manifest

DBT_POOL = "dbt"
SUMMARIES_GROUP = "summaries"
AUTOMATION_SENSOR_NAME = "summaries_automation_sensor"
# Parsed at import (milliseconds when current) so `dagster definitions validate` works on a fresh clone.
MANIFEST_PATH = ensure_manifest()


def summaries_automation_condition() -> dg.AutomationCondition:
    """Build when any upstream partition was newly materialized (or the code changed; once if missing).

    Unlike ``eager()`` this ignores upstream partitions that were never materialized (most dynamic
    event partitions never are), remembers a pending update until it is handled, and holds while a
    build or an upstream ingestion is in progress.
    """
    updated = (
        (dg.AutomationCondition.any_deps_updated() | dg.AutomationCondition.code_version_changed())
        .since_last_handled()
        .with_label("upstream or code changed since last handled")
    )
    # since_last_handled() resets on the condition's first evaluation, so "missing" needs its own term.
    first_deploy = (
        dg.AutomationCondition.missing() & dg.AutomationCondition.initial_evaluation()
    ).with_label("missing on first evaluation")
    return (
        (updated | first_deploy)
        & ~dg.AutomationCondition.in_progress()
        & ~dg.AutomationCondition.any_deps_in_progress()
    ).with_label("build summaries after ingestion")


class SummariesTranslator(DagsterDbtTranslator):
    """Group the models together and give each the summaries automation condition."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props.get("resource_type") == "source":
            return super().get_group_name(dbt_resource_props)
        return SUMMARIES_GROUP

    def get_automation_condition(
        self, dbt_resource_props: Mapping[str, Any]
    ) -> dg.AutomationCondition | None:
        if dbt_resource_props.get("resource_type") == "model":
            return summaries_automation_condition()
        return None


TRANSLATOR = SummariesTranslator(
    settings=DagsterDbtTranslatorSettings(
        enable_asset_checks=True,
        # Five source tables are written by the one `event_results` asset.
        enable_duplicate_source_asset_keys=True,
    )
)


@dbt_assets(
    manifest=MANIFEST_PATH,
    dagster_dbt_translator=TRANSLATOR,
    name="mre_summaries_dbt",
    pool=DBT_POOL,
)
def mre_summaries_dbt(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    """``dbt build`` (models, then their tests) for the selected models, against the pipeline's warehouse."""
    with dbt_environment(warehouse.url):
        yield from dbt.cli(["build"], context=context).stream()


def dbt_resource() -> DbtCliResource:
    """dbt from this interpreter's environment, so ``dagster dev`` needs no PATH setup."""
    return DbtCliResource(
        project_dir=str(PROJECT_DIR), profiles_dir=str(PROJECT_DIR), dbt_executable=dbt_executable()
    )


summaries_automation_sensor = dg.AutomationConditionSensorDefinition(
    AUTOMATION_SENSOR_NAME,
    target=dg.AssetSelection.assets(mre_summaries_dbt),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Requests dbt builds of the lap summaries after event ingestion.",
)


def summaries_definitions(resources: Mapping[str, Any] | None = None) -> dg.Definitions:
    """The dbt assets, their checks and their sensor; ``resources`` adds/overrides resources (tests)."""
    return dg.Definitions(
        assets=[mre_summaries_dbt],
        sensors=[summaries_automation_sensor],
        resources={"dbt": dbt_resource(), **(resources or {})},
    )
