"""dagster-celery's run launcher, with a health check that notices a worker host that vanished.

``CeleryRunLauncher`` (dagster-celery 0.29) hands each run to a Celery worker as one task and answers run
monitoring from the task's state in the result backend. That state is written by the worker itself, so a
worker killed whole (``kill -9`` of its process group, OOM of the container, a host that loses power) leaves
its task ``STARTED`` for ever: the stock check says "running", the run never ends and keeps its pool
slots. Only a pool process dying under a live worker is seen (the worker records ``FAILURE``).

This subclass asks the workers themselves, through the broker, which tasks they are executing (Celery's
``inspect active``, one broadcast shared by every run checked within a few seconds). A task that no worker
reports for ``worker_lost_grace_seconds`` in a row is lost: run monitoring fails the run, run retries start
it again on a live worker, and the request follows the retry, exactly as on one machine
(``MonitoredRunLauncher``). When the broker cannot be reached the check answers "running": an outage of
Redis must not fail healthy runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import dagster as dg
from dagster import Field
from dagster._core.launcher import CheckRunHealthResult, WorkerStatus
from dagster_celery.launcher import CeleryRunLauncher
from dagster_celery.tags import DAGSTER_CELERY_TASK_ID_TAG

log = logging.getLogger(__name__)

# Set by the worker that runs a run (mre_pipeline/instance/celery_worker.py): which Celery node ran it.
WORKER_TAG = "mre/celery_worker"
DEFAULT_WORKER_LOST_GRACE_S = 30
# One `inspect active` broadcast answers every run checked in the same monitoring pass.
ACTIVE_TASKS_CACHE_S = 3.0
INSPECT_TIMEOUT_S = 2.0
FINISHED_STATES = {"SUCCESS", "FAILURE", "REVOKED"}


@dataclass(frozen=True)
class ActiveTasks:
    """What the workers said they are executing: task id -> worker node name; None if none could be asked."""

    by_task: Mapping[str, str] | None
    asked_at: float


def active_tasks_from_replies(replies: Mapping[str, list[Mapping[str, Any]]] | None) -> dict[str, str]:
    """``inspect().active()`` replies ({node: [task info, ...]}, None when no worker answered) -> task id ->
    node."""
    return {task["id"]: node for node, tasks in (replies or {}).items() for task in tasks or ()}


def judge_task(
    state: str,
    started_on: str | None,
    active: ActiveTasks,
    task_id: str,
    missing_since: float | None,
    now: float,
    grace_s: float,
) -> tuple[CheckRunHealthResult, float | None]:
    """The health of one run's task, and when it was first found missing (None while it is seen).

    ``state`` is the result backend's, ``started_on`` the node the worker recorded when it started the task.
    """
    if state == "SUCCESS":
        return CheckRunHealthResult(WorkerStatus.SUCCESS), None
    if state == "FAILURE":
        return CheckRunHealthResult(WorkerStatus.FAILED, "the Celery task of this run failed"), None
    if state == "REVOKED":
        return CheckRunHealthResult(WorkerStatus.FAILED, "the Celery task of this run was revoked"), None
    if active.by_task is None:
        return CheckRunHealthResult(WorkerStatus.RUNNING, "the Celery workers could not be asked"), None
    node = active.by_task.get(task_id)
    if node is not None:
        return CheckRunHealthResult(WorkerStatus.RUNNING, f"running on Celery worker {node}"), None
    first_missed = missing_since if missing_since is not None else now
    where = f"worker {started_on}" if started_on else "any worker"
    if now - first_missed >= grace_s:
        return (
            CheckRunHealthResult(
                WorkerStatus.FAILED,
                f"the run's Celery task is no longer running on {where} (not seen for "
                f"{now - first_missed:.0f} s): the worker was killed or its host stopped",
            ),
            first_missed,
        )
    return (
        CheckRunHealthResult(WorkerStatus.RUNNING, f"not seen on {where} for {now - first_missed:.0f} s"),
        first_missed,
    )


class MonitoredCeleryRunLauncher(CeleryRunLauncher):
    """``CeleryRunLauncher`` whose health check also notices workers that died without a word."""

    def __init__(
        self,
        default_queue: str,
        broker: str | None = None,
        backend: str | None = None,
        include: list[str] | None = None,
        config_source: dict | None = None,
        worker_lost_grace_seconds: int = DEFAULT_WORKER_LOST_GRACE_S,
        inst_data: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            default_queue=default_queue,
            broker=broker,
            backend=backend,
            include=include,
            config_source=config_source,
            inst_data=inst_data,
        )
        self.worker_lost_grace_s = float(worker_lost_grace_seconds)
        self._clock = clock
        self._lock = threading.Lock()
        self._active: ActiveTasks | None = None
        self._missing_since: dict[str, float] = {}

    @classmethod
    def config_type(cls):
        return {
            **CeleryRunLauncher.config_type(),
            "worker_lost_grace_seconds": Field(
                int,
                is_required=False,
                default_value=DEFAULT_WORKER_LOST_GRACE_S,
                description="How long no worker may report a started run's task before the run is failed.",
            ),
        }

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        task_id = run.tags.get(DAGSTER_CELERY_TASK_ID_TAG)
        if not task_id:
            # Started before the launcher tagged it (a moment's race): judged on the next pass.
            return CheckRunHealthResult(WorkerStatus.RUNNING, "Celery task id not recorded yet")
        try:
            result = self.celery.AsyncResult(task_id)
            state = result.state
            started_on = _node_of(result.info) or run.tags.get(WORKER_TAG)
        except Exception as exc:  # noqa: BLE001 - the result backend is down: never fail a run for that
            log.warning("could not read the Celery task state of run %s: %s", run.run_id, exc)
            return CheckRunHealthResult(WorkerStatus.RUNNING, "the Celery result backend could not be read")
        active = self._active_tasks() if state not in FINISHED_STATES else ActiveTasks({}, self._clock())
        with self._lock:
            health, missing_since = judge_task(
                state,
                started_on,
                active,
                task_id,
                self._missing_since.get(run.run_id),
                self._clock(),
                self.worker_lost_grace_s,
            )
            if missing_since is None or health.status != WorkerStatus.RUNNING:
                self._missing_since.pop(run.run_id, None)
            else:
                self._missing_since[run.run_id] = missing_since
        return health

    def get_run_worker_debug_info(self, run: dg.DagsterRun, include_container_logs: bool | None = True):
        task_id = run.tags.get(DAGSTER_CELERY_TASK_ID_TAG)
        if not task_id:
            return None
        result = self.celery.AsyncResult(task_id)
        return str(
            {
                "run_id": run.run_id,
                "celery_task_id": task_id,
                "task_status": result.state,
                "worker": _node_of(result.info) or run.tags.get(WORKER_TAG),
            }
        )

    def _active_tasks(self) -> ActiveTasks:
        """The workers' active tasks, asked at most once per ``ACTIVE_TASKS_CACHE_S``."""
        with self._lock:
            cached = self._active
            if cached is not None and self._clock() - cached.asked_at < ACTIVE_TASKS_CACHE_S:
                return cached
            try:
                replies = self.celery.control.inspect(timeout=INSPECT_TIMEOUT_S).active()
                by_task: Mapping[str, str] | None = active_tasks_from_replies(replies)
            except Exception as exc:  # noqa: BLE001 - broker unreachable: cannot tell, so do not judge
                log.warning("could not ask the Celery workers for their active tasks: %s", exc)
                by_task = None
            self._active = ActiveTasks(by_task, self._clock())
            return self._active


def _node_of(info: object) -> str | None:
    """The worker node Celery records with a started task (``track_started``: {"pid", "hostname"})."""
    if isinstance(info, Mapping):
        node = info.get("hostname")
        return str(node) if node else None
    return None
