"""dbt lap summaries as Dagster assets, built per event by their own sensor, in their own code location.

Every dbt model is an asset downstream of the asset that writes its source tables (sources carry
``meta.dagster.asset_key``, so the lineage crosses from the ``mre_pipeline`` location), every dbt test is
an asset check. The ``summaries_sensor`` asks the warehouse which events changed since their summaries
were built (mre_pipeline/warehouse/summary_state.py) and launches one ``summaries_build`` run for a batch
of them; the run passes the batch to dbt, whose incremental models replace exactly those events' rows.
While that build runs, one standby build may wait warm behind it and build whatever is due when it gets
the slot. Runs use pool ``dbt`` (concurrent ``dbt build`` on Postgres deadlocks: one build at a time) and
the in-process executor.

Loaded by ``mre_pipeline/summaries_definitions.py`` only: the ingestion location never imports dagster-dbt.
"""

import os
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from importlib import metadata
from typing import Any, NamedTuple

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets
from pydantic import Field

from mre_pipeline.defs.resources import WarehouseResource
from mre_pipeline.summaries import build_scheduler as sched
from mre_pipeline.summaries.dbt_env import (
    PROJECT_DIR,
    dbt_build_args,
    dbt_environment,
    dbt_executable,
    summary_build_env,
)
from mre_pipeline.summaries.manifest import TARGET_DIR, ensure_manifest, models_version
from mre_pipeline.summaries.run_results import FAILED_NODES_PREFIX, failure_summary
from mre_pipeline.warehouse.summary_state import summary_backlog

DBT_POOL = "dbt"
SUMMARIES_GROUP = "summaries"
SUMMARIES_JOB_NAME = "summaries_build"
SENSOR_NAME = "summaries_sensor"
BUILD_TAG = "mre/summaries_build"  # the sensor's own key for each run it requests
BATCH_TAG = "mre/summaries_batch"  # a standby build's events, tagged when it chooses them
# Parsed at import (milliseconds when current) so `dagster definitions validate` works on a fresh clone.
MANIFEST_PATH = ensure_manifest()
MODELS_VERSION = models_version()
# One target path for every build (they never overlap: pool `dbt`), so dbt's partial-parse state carries
# over from one build to the next instead of costing a full parse each time.
BUILD_TARGET_DIR = TARGET_DIR / "dagster"
_IN_PROGRESS = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def _clock() -> float:
    """Wall-clock seconds (one place, so tests can move time forward past a backoff)."""
    return time.time()


def sensor_interval_s() -> int:
    """MRE_SUMMARIES_SENSOR_INTERVAL_S (default 2; the daemon's sensor loop is MRE_SENSOR_LOOP_S, 1 s)."""
    return max(1, int(os.environ.get("MRE_SUMMARIES_SENSOR_INTERVAL_S", "2")))


class SummariesTranslator(DagsterDbtTranslator):
    """Group the models together; describe every node in words (never its raw SQL)."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props.get("resource_type") == "source":
            return super().get_group_name(dbt_resource_props)
        return SUMMARIES_GROUP

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        description = (dbt_resource_props.get("description") or "").strip()
        return (
            description
            or f"dbt {dbt_resource_props.get('resource_type', 'node')} {dbt_resource_props['name']}"
        )


TRANSLATOR = SummariesTranslator(
    settings=DagsterDbtTranslatorSettings(
        enable_asset_checks=True,
        # Five source tables are written by the one `event_results` asset.
        enable_duplicate_source_asset_keys=True,
    )
)


class SummariesBuildConfig(dg.Config):
    """What one build refreshes. The defaults (a launch from the UI) rebuild everything."""

    event_ids: list[int] = Field(
        default_factory=list,
        description="Warehouse event ids to refresh; empty rebuilds every event from scratch.",
    )
    rebuild_staging: bool = Field(
        default=True,
        description="Also recreate the stg_* views and run their tests (only needed when their SQL changed).",
    )
    from_backlog: bool = Field(
        default=False,
        description="Ignore event_ids: build the events due when the build gets the dbt slot (the sensor's "
        "standby build, launched while another build runs, so that it starts warm).",
    )
    skip_events: list[str] = Field(
        default_factory=list,
        description="With from_backlog: events left out after failed builds, as event_id@results_changed_at.",
    )


class Batch(NamedTuple):
    event_ids: list[int]
    rebuild_staging: bool


def _due_now(warehouse: WarehouseResource, skip_events: list[str]) -> Batch | None:
    """The events due at this moment (a standby build's batch); None when an earlier build covered them."""
    with warehouse.get_engine().connect() as conn:
        backlog = summary_backlog(
            conn, MODELS_VERSION, limit=sched.BATCH_LIMIT, skip=sched.skip_from_strings(skip_events)
        )
    if backlog.first_build or not backlog.events:
        return None
    return Batch([e.event_id for e in backlog.events], backlog.rebuild_staging)


@dbt_assets(
    manifest=MANIFEST_PATH,
    dagster_dbt_translator=TRANSLATOR,
    name="mre_summaries_dbt",
    pool=DBT_POOL,
)
def mre_summaries_dbt(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    config: SummariesBuildConfig,
) -> Iterator[Any]:
    """``dbt build`` for a batch of events (or everything), against the pipeline's warehouse."""
    batch = Batch(config.event_ids, config.rebuild_staging)
    if config.from_backlog:
        batch = _due_now(warehouse, config.skip_events)
        if batch is None:
            context.log.info("nothing is due any more: the build before this one covered it")
            return
        context.instance.add_run_tags(context.run_id, {BATCH_TAG: ",".join(map(str, batch.event_ids))})
    scope = f"{len(batch.event_ids)} event(s)" if batch.event_ids else "every event (full build)"
    context.log.info(f"building the lap summaries of {scope}")
    build_env = summary_build_env(batch.event_ids, MODELS_VERSION)
    (BUILD_TARGET_DIR / "run_results.json").unlink(missing_ok=True)  # never read a previous build's
    with dbt_environment(warehouse.url, build_env):
        invocation = dbt.cli(
            dbt_build_args(batch.event_ids, batch.rebuild_staging),
            context=context,
            target_path=BUILD_TARGET_DIR,
            raise_on_error=False,
        )
        yield from invocation.stream()
    if not invocation.is_successful():
        try:
            run_results = invocation.get_artifact("run_results.json")
        except FileNotFoundError:
            run_results = None
        raise dg.Failure(description=failure_summary(run_results))


class DbtVersion(NamedTuple):
    major: int
    minor: int
    micro: int


class SummariesDbtResource(DbtCliResource):
    """dagster-dbt's CLI resource without two costs it adds to every build (seconds each on 2 cores).

    It runs ``dbt --version`` in a subprocess to learn the version of dbt we pin (dbt-core's package
    metadata says it), and loads dbt's adapter into the run process, which only its column-metadata and
    row-count helpers use (these builds use neither). Both are private hooks of dagster-dbt 0.29, pinned
    in pyproject.toml; test_dagster_wiring runs real builds through this class.
    """

    @cached_property
    def _cli_version(self) -> "DbtVersion":  # dagster-dbt 0.29 reads only .major (Core < 2 <= Fusion)
        numbers = re.match(r"(\d+)\.(\d+)\.(\d+)", metadata.version("dbt-core"))
        return DbtVersion(*(int(n) for n in numbers.groups())) if numbers else DbtVersion(1, 0, 0)

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        return None


def dbt_resource() -> DbtCliResource:
    """dbt from this interpreter's environment, so ``dagster dev`` needs no PATH setup."""
    return SummariesDbtResource(
        project_dir=str(PROJECT_DIR), profiles_dir=str(PROJECT_DIR), dbt_executable=dbt_executable()
    )


summaries_job = dg.define_asset_job(
    SUMMARIES_JOB_NAME,
    selection=dg.AssetSelection.assets(mre_summaries_dbt),
    executor_def=dg.in_process_executor,
    description="dbt build of the lap summaries for a batch of events (run config: event_ids).",
)


def _run_for(instance: dg.DagsterInstance, run_key: str) -> dg.DagsterRun | None:
    records = instance.get_run_records(dg.RunsFilter(tags={BUILD_TAG: run_key}), limit=1)
    return records[0].dagster_run if records else None


class BuildFailure(NamedTuple):
    message: str
    of_the_data: bool  # dbt reported failing nodes (tests, models), not a dead process or a stopped service


def _build_failure(instance: dg.DagsterInstance, run: dg.DagsterRun) -> BuildFailure:
    """What the build's step said (our Failure names the dbt nodes that failed), else the run's status."""
    for record in instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE, limit=1
    ).records:
        event = record.event_log_entry.dagster_event
        data = event.step_failure_data if event else None
        if data and data.user_failure_data and data.user_failure_data.description:
            description = data.user_failure_data.description[:300]
            return BuildFailure(description, description.startswith(FAILED_NODES_PREFIX))
        if data and data.error:
            return BuildFailure(data.error.message.strip().splitlines()[0].split(": ", 1)[-1][:300], False)
    return BuildFailure(f"run {run.run_id[:8]} ended {run.status.value.lower()}", False)


def _batch_of(run: dg.DagsterRun | None, pending: sched.PendingBuild) -> list[int] | None:
    """The events a build builds: its configuration's, or a standby build's tag (None before it chose)."""
    if not pending.from_backlog:
        return pending.event_ids
    tag = run.tags.get(BATCH_TAG) if run else None
    return None if tag is None else [int(e) for e in tag.split(",") if e]


def _settle_builds(context: dg.SensorEvaluationContext, cursor: sched.BuildCursor, now: float) -> str | None:
    """Settle the build in progress, then the standby build behind it; a reason to wait, if any."""
    waiting = _settle_pending(context, cursor, now)
    if waiting is None and cursor.standby is not None:
        cursor.pending, cursor.standby = cursor.standby, None
        waiting = _settle_pending(context, cursor, now)
    return waiting


def _settle_pending(context: dg.SensorEvaluationContext, cursor: sched.BuildCursor, now: float) -> str | None:
    """Fold the outcome of the build we launched into the cursor; a reason to wait if it is not over."""
    pending = cursor.pending
    if pending is None:
        return None
    run = _run_for(context.instance, pending.run_key)
    if pending.from_backlog and run is not None and run.is_finished:
        chosen = _batch_of(run, pending)
        pending.event_ids = chosen or []
        if chosen is None and run.status != dg.DagsterRunStatus.SUCCESS:  # died before choosing a batch
            message = sched.record_failure(cursor, _build_failure(context.instance, run).message, now, False)
            context.log.warning(message)
            return None
    if run is None:
        if now - pending.requested_at < sched.LAUNCH_GRACE_S:
            return "waiting for Dagster to create the requested summaries run"
        message = sched.record_failure(cursor, "the requested run was never created", now, of_the_data=False)
        context.log.warning(message)
        return None
    if run.status in _IN_PROGRESS:
        return f"summaries run {run.run_id[:8]} is {run.status.value.lower()}"
    if run.status == dg.DagsterRunStatus.SUCCESS:
        sched.record_success(cursor)
        return None
    failure = _build_failure(context.instance, run)
    message = sched.record_failure(cursor, failure.message, now, of_the_data=failure.of_the_data)
    context.log.warning(message)
    return None


def _other_build_in_progress(instance: dg.DagsterInstance) -> dg.DagsterRun | None:
    records = instance.get_run_records(
        dg.RunsFilter(job_name=SUMMARIES_JOB_NAME, statuses=_IN_PROGRESS), limit=1
    )
    return records[0].dagster_run if records else None


def _standby_request(
    context: dg.SensorEvaluationContext, cursor: sched.BuildCursor, warehouse: WarehouseResource, now: float
) -> dg.RunRequest | None:
    """While a batch build runs, one more build for events due beyond its batch: it starts its process and
    loads now, waits for the dbt slot, and builds what is due when it gets it."""
    if cursor.pending is None or cursor.standby is not None or not sched.healthy(cursor, now):
        return None
    building = _batch_of(_run_for(context.instance, cursor.pending.run_key), cursor.pending)
    if not building:  # not chosen yet, or a full build (which builds everything)
        return None
    with warehouse.get_engine().connect() as conn:
        backlog = summary_backlog(
            conn,
            MODELS_VERSION,
            limit=sched.BATCH_LIMIT + len(building),
            skip=sched.parked_skip_list(cursor),
        )
    if backlog.first_build or {e.event_id for e in backlog.events} <= set(building):
        return None
    run_key = _next_run_key(cursor, now)
    cursor.standby = sched.PendingBuild(run_key=run_key, event_ids=[], requested_at=now, from_backlog=True)
    context.log.info("launching a standby summaries build for the events due after the running one")
    build = SummariesBuildConfig(from_backlog=True, skip_events=sched.parked_skip_strings(cursor))
    return _build_request(run_key, build)


def _next_run_key(cursor: sched.BuildCursor, now: float) -> str:
    cursor.launched += 1
    return f"summaries-{int(now)}-{cursor.launched}"


def _build_request(run_key: str, build: SummariesBuildConfig) -> dg.RunRequest:
    return dg.RunRequest(
        run_key=run_key,
        run_config=dg.RunConfig(ops={mre_summaries_dbt.op.name: build}),
        tags={BUILD_TAG: run_key},
    )


def _nothing_due(cursor: sched.BuildCursor) -> str:
    """The skip reason when no event is due; parked events are named, never passed off as current."""
    if not cursor.parked:
        return "every ingested event's summaries are current"
    parked = ", ".join(str(e) for e in sorted(cursor.parked)[:10])
    return (
        f"no event is due, but {len(cursor.parked)} event(s) are left out after failed builds "
        f"(event id {parked}) until they are ingested again or {sched.PARK_SECONDS / 3600:.0f} h pass"
    )


def _skip(cursor: sched.BuildCursor, reason: str) -> dg.SensorResult:
    return dg.SensorResult(skip_reason=reason, cursor=cursor.to_json())


@dg.sensor(
    name=SENSOR_NAME,
    job=summaries_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=sensor_interval_s(),
    description=(
        "Builds the lap summaries of events ingested since their last build (one indexed query per tick), "
        "one build at a time, retrying failed builds with backoff."
    ),
)
def summaries_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource) -> dg.SensorResult:
    now = _clock()
    cursor = sched.BuildCursor.from_json(context.cursor)
    waiting = _settle_builds(context, cursor, now)
    if waiting:
        standby = _standby_request(context, cursor, warehouse, now)
        if standby is not None:
            return dg.SensorResult(run_requests=[standby], cursor=cursor.to_json())
        return _skip(cursor, waiting)
    other = _other_build_in_progress(context.instance)
    if other is not None:
        return _skip(cursor, f"summaries run {other.run_id[:8]} is {other.status.value.lower()}")
    if now < cursor.retry_after:
        return _skip(
            cursor,
            f"retrying in {cursor.retry_after - now:.0f} s after {cursor.failures} failed build(s): "
            f"{cursor.last_error}",
        )
    sched.expire_parked(cursor, now)
    with warehouse.get_engine().connect() as conn:
        backlog = summary_backlog(
            conn, MODELS_VERSION, limit=sched.BATCH_LIMIT, skip=sched.parked_skip_list(cursor)
        )
    due = [e.event_id for e in backlog.events]
    if not due and not backlog.first_build:
        return _skip(cursor, _nothing_due(cursor))
    batch = sched.choose_batch(cursor, due)
    run_key = _next_run_key(cursor, now)
    ingested_at = {str(e.event_id): e.changed_at.isoformat() for e in backlog.events}
    cursor.pending = sched.PendingBuild(
        run_key=run_key,
        event_ids=batch,
        requested_at=now,
        ingested_at={str(e): ingested_at[str(e)] for e in batch},
    )
    build = SummariesBuildConfig(event_ids=batch, rebuild_staging=backlog.rebuild_staging)
    scope = f"{len(batch)} event(s)" if batch else "the empty warehouse (first build)"
    context.log.info(f"launching the summaries build of {scope}")
    return dg.SensorResult(run_requests=[_build_request(run_key, build)], cursor=cursor.to_json())


def summaries_definitions(resources: Mapping[str, Any] | None = None) -> dg.Definitions:
    """The dbt assets, their checks, the build job and its sensor; ``resources`` overrides (tests)."""
    return dg.Definitions(
        assets=[mre_summaries_dbt],
        jobs=[summaries_job],
        sensors=[summaries_sensor],
        resources={"dbt": dbt_resource(), "warehouse": WarehouseResource(), **(resources or {})},
    )
