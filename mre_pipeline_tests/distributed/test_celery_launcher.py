"""Run monitoring's question to the Celery launcher: is this run's task still being worked on?

The decision is a pure function (``judge_task``); the launcher reads real task states from a real Redis
result backend and asks the workers through the real broker (none answer here: every worker is gone).
"""

from __future__ import annotations

import dagster as dg
import pytest
from dagster._core.launcher import WorkerStatus
from dagster_celery.tags import DAGSTER_CELERY_TASK_ID_TAG

from mre_pipeline.instance.celery_launcher import (
    ActiveTasks,
    MonitoredCeleryRunLauncher,
    active_tasks_from_replies,
    judge_task,
)
from mre_pipeline_tests.dagster_process import free_port

GRACE_S = 20.0


def _judge(state: str, active: dict[str, str] | None, missing_since: float | None = None, now: float = 100.0):
    return judge_task(state, "worker1@a", ActiveTasks(active, now), "t1", missing_since, now, GRACE_S)


def test_finished_tasks_are_judged_by_their_state() -> None:
    assert _judge("SUCCESS", None)[0].status == WorkerStatus.SUCCESS
    assert _judge("FAILURE", {})[0].status == WorkerStatus.FAILED
    assert _judge("REVOKED", {})[0].status == WorkerStatus.FAILED


def test_a_task_a_worker_reports_is_running() -> None:
    health, missing_since = _judge("STARTED", {"t1": "worker2@b"}, missing_since=50.0)
    assert health.status == WorkerStatus.RUNNING and "worker2@b" in health.msg
    assert missing_since is None, "seen again: the grace period starts over"


def test_a_task_no_worker_reports_fails_only_after_the_grace_period() -> None:
    health, first_missed = _judge("STARTED", {"t2": "worker2@b"}, now=100.0)
    assert health.status == WorkerStatus.RUNNING and first_missed == 100.0
    health, first_missed = _judge("STARTED", {}, missing_since=100.0, now=100.0 + GRACE_S - 1)
    assert health.status == WorkerStatus.RUNNING and first_missed == 100.0
    health, _ = _judge("STARTED", {}, missing_since=100.0, now=100.0 + GRACE_S)
    assert health.status == WorkerStatus.FAILED
    assert health.msg.startswith("the run's Celery task is no longer running on worker worker1@a")


def test_when_the_workers_cannot_be_asked_nothing_is_judged() -> None:
    health, missing_since = _judge("STARTED", None, missing_since=0.0, now=1000.0)
    assert health.status == WorkerStatus.RUNNING and missing_since is None


def test_replies_map_each_active_task_to_its_worker() -> None:
    replies = {"worker1@a": [{"id": "t1"}, {"id": "t2"}], "worker2@b": [], "worker3@c": None}
    assert active_tasks_from_replies(replies) == {"t1": "worker1@a", "t2": "worker1@a"}
    assert active_tasks_from_replies(None) == {}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _run(task_id: str | None) -> dg.DagsterRun:
    tags = {DAGSTER_CELERY_TASK_ID_TAG: task_id} if task_id else {}
    return dg.DagsterRun(job_name="ingest", run_id=f"run-{task_id}", tags=tags)


@pytest.fixture
def launcher(redis_url: str):
    clock = Clock()
    launcher = MonitoredCeleryRunLauncher(
        default_queue="dagster",
        broker=redis_url,
        backend=redis_url,
        worker_lost_grace_seconds=20,
        clock=clock,
    )
    yield launcher, clock
    launcher.celery.close()


def test_a_started_task_whose_worker_vanished_fails_after_the_grace_period(launcher) -> None:
    launcher, clock = launcher
    backend = launcher.celery.backend
    backend.store_result("dead-1", {"pid": 4242, "hostname": "worker9@gone"}, "STARTED")
    first = launcher.check_run_worker_health(_run("dead-1"))
    assert first.status == WorkerStatus.RUNNING, first.msg
    clock.now += 21
    second = launcher.check_run_worker_health(_run("dead-1"))
    assert second.status == WorkerStatus.FAILED
    assert "no longer running on worker worker9@gone" in second.msg
    assert "worker9@gone" in launcher.get_run_worker_debug_info(_run("dead-1"))


def test_finished_tasks_and_untagged_runs(launcher) -> None:
    launcher, _ = launcher
    backend = launcher.celery.backend
    backend.store_result("done-1", 0, "SUCCESS")
    backend.mark_as_failure("lost-1", RuntimeError("Worker exited prematurely: signal 9 (SIGKILL)"))
    assert launcher.check_run_worker_health(_run("done-1")).status == WorkerStatus.SUCCESS
    assert launcher.check_run_worker_health(_run("lost-1")).status == WorkerStatus.FAILED
    assert launcher.check_run_worker_health(_run(None)).status == WorkerStatus.RUNNING


def test_an_unreachable_redis_never_fails_a_run() -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    launcher = MonitoredCeleryRunLauncher(
        default_queue="dagster",
        broker=closed,
        backend=closed,
        config_source={"redis_socket_connect_timeout": 1, "broker_connection_retry": False},
    )
    try:
        health = launcher.check_run_worker_health(_run("any-1"))
    finally:
        launcher.celery.close()
    assert health.status == WorkerStatus.RUNNING, health.msg
