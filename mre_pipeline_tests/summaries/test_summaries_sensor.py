"""The summaries sensor on a real Dagster instance and a real warehouse: its runs execute for real (dbt).

It asks the warehouse which events changed since their summaries were built, launches one build per batch,
none while its build is queued or running, and retries a failed build after a backoff.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pytest
import sqlalchemy as sa
from dagster._core.events import DagsterEvent

from mre_pipeline.defs import summaries
from mre_pipeline.defs.resources import WarehouseResource
from mre_pipeline.summaries.build_scheduler import BACKOFF_BASE_S, BuildCursor
from mre_pipeline.warehouse.event_results import write_event
from mre_pipeline_tests.summaries.conftest import rows
from mre_pipeline_tests.summaries.synthetic import TRACK, synthetic_events

OP = summaries.mre_summaries_dbt.op.name


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(summaries, "_clock", fake)
    return fake


@pytest.fixture(scope="module")
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as dagster_instance:
        yield dagster_instance


class Sensor:
    """Ticks the sensor like the daemon does (cursor carried over) and runs what it requests."""

    def __init__(self, instance: dg.DagsterInstance, url: str) -> None:
        self.instance = instance
        self.warehouse = WarehouseResource(url=url)
        self.cursor: str | None = None
        self.job = summaries.summaries_definitions({"warehouse": self.warehouse}).resolve_job_def(
            summaries.SUMMARIES_JOB_NAME
        )

    def tick(self) -> dg.SensorResult:
        context = dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor, resources={"warehouse": self.warehouse}
        )
        result = summaries.summaries_sensor(context)
        self.cursor = result.cursor
        return result

    def state(self) -> BuildCursor:
        return BuildCursor.from_json(self.cursor)

    def execute(
        self, request: dg.RunRequest, job: dg.JobDefinition | None = None
    ) -> dg.ExecuteInProcessResult:
        """Run the requested build in-process, as the run worker would."""
        return (job or self.job).execute_in_process(
            run_config=request.run_config, instance=self.instance, tags=request.tags, raise_on_error=False
        )

    def create_run(self, request: dg.RunRequest) -> dg.DagsterRun:
        """The run as the daemon creates it for the request (not started yet)."""
        return self.instance.create_run_for_job(
            job_def=self.job,
            run_config=request.run_config,
            tags={**request.tags, "dagster/run_key": request.run_key},
            status=dg.DagsterRunStatus.NOT_STARTED,
        )

    def start(self, run: dg.DagsterRun) -> None:
        self.instance.report_dagster_event(
            DagsterEvent(event_type_value=dg.DagsterEventType.RUN_START.value, job_name=run.job_name),
            run_id=run.run_id,
        )
        assert self.instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED


def build_config(request: dg.RunRequest) -> dict:
    """The build's configuration, without the standby fields when they are unset."""
    config = dict(request.run_config["ops"][OP]["config"])
    if not config.get("from_backlog") and not config.get("skip_events"):
        config.pop("from_backlog", None)
        config.pop("skip_events", None)
    return config


def write_synthetic(engine: sa.Engine) -> list[int]:
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO mre.tracks (slug, name) VALUES (:s, 'Test Track')"), {"s": TRACK})
    ids = []
    for detail, races in synthetic_events():
        with engine.begin() as conn:
            ids.append(write_event(conn, detail, races, None).event_pk)
    return ids


def test_builds_each_batch_once_waits_for_it_and_retries_after_a_failure(
    instance: dg.DagsterInstance, summaries_db: str, summaries_engine: sa.Engine, clock: Clock
) -> None:
    sensor = Sensor(instance, summaries_db)

    # First deployment, nothing ingested: one build that creates the (empty) summaries.
    first = sensor.tick()
    [request] = first.run_requests
    assert build_config(request) == {"event_ids": [], "rebuild_staging": True}
    assert "waiting for Dagster" in sensor.tick().skip_reason.skip_message  # not created yet
    assert sensor.execute(request).success
    assert sensor.tick().skip_reason.skip_message == "every ingested event's summaries are current"

    # Two events are committed straight to the warehouse, with no Dagster materialization at all (as when
    # an ingestion's run dies right after its commit): one build for both.
    event_ids = write_synthetic(summaries_engine)
    [request] = sensor.tick().run_requests
    assert build_config(request) == {"event_ids": event_ids, "rebuild_staging": False}
    run = sensor.create_run(request)
    for state in ("not_started", "started"):  # waiting or running: nothing new, however often it ticks
        if state == "started":
            sensor.start(run)
        for _ in range(2):
            result = sensor.tick()
            assert not result.run_requests and state in result.skip_reason.skip_message

    # The run fails (its process died, say): the sensor backs off, then builds the same batch again.
    instance.report_run_failed(run, "run worker exited unexpectedly")
    result = sensor.tick()
    assert not result.run_requests
    assert f"retrying in {BACKOFF_BASE_S:.0f} s after 1 failed build(s)" in result.skip_reason.skip_message
    assert sensor.state().failures == 1
    clock.now += BACKOFF_BASE_S - 1
    assert not sensor.tick().run_requests
    clock.now += 2
    [retry] = sensor.tick().run_requests
    assert build_config(retry)["event_ids"] == event_ids and retry.run_key != request.run_key
    assert sensor.execute(retry).success
    assert sensor.tick().skip_reason.skip_message == "every ingested event's summaries are current"
    assert sensor.state().failures == 0
    assert rows(
        summaries_engine, "SELECT count(DISTINCT event_id) AS n FROM mre_summaries.driver_race_summary"
    ) == [{"n": 2}]


def test_a_build_that_fails_for_real_is_logged_and_retried(
    instance: dg.DagsterInstance, summaries_db: str, summaries_engine: sa.Engine, clock: Clock
) -> None:
    sensor = Sensor(instance, summaries_db)
    with summaries_engine.begin() as conn:  # an event is ingested again, with changes
        conn.exec_driver_sql(
            "UPDATE mre.events SET last_ingested_at = now(), results_changed_at = now() WHERE source_event_id = 9001"
        )
    [request] = sensor.tick().run_requests
    unreachable = summaries.summaries_definitions(
        {"warehouse": WarehouseResource(url=summaries_db.replace("mre_summ", "no_such_db"))}
    ).resolve_job_def(summaries.SUMMARIES_JOB_NAME)
    assert not sensor.execute(request, job=unreachable).success  # dbt cannot connect
    result = sensor.tick()
    assert "dbt build failed" in result.skip_reason.skip_message
    clock.now += BACKOFF_BASE_S + 1
    [retry] = sensor.tick().run_requests
    assert build_config(retry)["event_ids"] == build_config(request)["event_ids"]
    assert sensor.execute(retry).success
    assert sensor.tick().skip_reason.skip_message == "every ingested event's summaries are current"


def finish(instance: dg.DagsterInstance, run: dg.DagsterRun) -> None:
    instance.report_dagster_event(
        DagsterEvent(event_type_value=dg.DagsterEventType.RUN_SUCCESS.value, job_name=run.job_name),
        run_id=run.run_id,
    )


def test_a_standby_build_waits_warm_behind_the_running_one_and_builds_what_is_due_then(
    instance: dg.DagsterInstance, summaries_db: str, summaries_engine: sa.Engine, clock: Clock
) -> None:
    sensor = Sensor(instance, summaries_db)
    with summaries_engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE mre.events SET last_ingested_at = now(), results_changed_at = now() WHERE source_event_id = 9001"
        )
        [first] = conn.exec_driver_sql("SELECT event_id FROM mre.events WHERE source_event_id = 9001").one()
    [request] = sensor.tick().run_requests
    assert build_config(request)["event_ids"] == [first]
    running = sensor.create_run(request)
    sensor.start(running)
    assert "is started" in sensor.tick().skip_reason.skip_message  # nothing else due: no standby

    # Another event changes while that build runs: one standby build, whatever the sensor's tick rate.
    with summaries_engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE mre.events SET last_ingested_at = now(), results_changed_at = now() WHERE source_event_id <> 9001"
        )
        others = sorted(
            r[0]
            for r in conn.exec_driver_sql("SELECT event_id FROM mre.events WHERE source_event_id <> 9001")
        )
    [standby] = sensor.tick().run_requests
    assert build_config(standby) == {
        "event_ids": [],
        "rebuild_staging": True,
        "from_backlog": True,
        "skip_events": [],
    }
    assert not sensor.tick().run_requests and sensor.state().standby.run_key == standby.run_key

    # The running build ends (here: without building, as if it had read the warehouse before the change);
    # the standby gets the slot and builds every event due at that moment, and says which in a tag.
    finish(instance, running)
    result = sensor.execute(standby)
    assert result.success
    assert result.dagster_run.tags[summaries.BATCH_TAG] == ",".join(map(str, sorted([first, *others])))
    assert sensor.tick().skip_reason.skip_message == "every ingested event's summaries are current"
    assert (sensor.state().pending, sensor.state().standby, sensor.state().failures) == (None, None, 0)
    assert rows(
        summaries_engine, "SELECT count(DISTINCT event_id) AS n FROM mre_summaries.driver_race_summary"
    ) == [{"n": 1 + len(others)}]

    # A standby with nothing left to do (an earlier build covered it) ends without running dbt.
    idle = sensor.execute(dg.RunRequest(run_key="idle", run_config=standby.run_config, tags={}))
    assert idle.success and summaries.BATCH_TAG not in idle.dagster_run.tags


def test_sensor_is_on_by_default_and_targets_the_in_process_summaries_job() -> None:
    defs = summaries.summaries_definitions()
    sensor = defs.resolve_sensor_def(summaries.SENSOR_NAME)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.minimum_interval_seconds == 2
    job = defs.resolve_job_def(summaries.SUMMARIES_JOB_NAME)
    assert job.executor_def is dg.in_process_executor
    assert sensor.job_name == job.name
