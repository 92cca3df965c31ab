"""Dagster's default run launcher, plus the run-worker health check that lets run monitoring see deaths.

The stock ``DefaultRunLauncher`` starts each run in a process of the local code server but cannot tell
whether that process is still alive, so a run whose worker is killed (``kill -9``, OOM, a host reboot)
stays ``STARTED`` for ever and keeps its pool slots. Dagster's run monitoring daemon asks the launcher
``check_run_worker_health``; this subclass answers it from the worker's pid, which the run itself records
in its first event ("Started process for run (pid: N)"). Run monitoring then fails the run, Dagster's run
retries re-execute it once, and the freed pool slots let the queue move on: Dagster's own machinery,
given the one fact it lacked.

Runs of the preloaded code locations (``warm_modules`` in dagster.yaml) start warm: their worker is forked
from a process that imported the code once (warm_start.py) instead of a fresh interpreter started by the code
server; everything else about the run (its events, the pid it logs, monitoring, retries) is the same.

The pid check is valid where the run workers run on the monitoring daemon's host, which is what the default
launcher does on one machine (``mre-pipeline dev``). The distributed topology (deploy/) runs its workers
through Celery; ``celery_launcher.py`` checks those by asking the workers through the broker.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Mapping
from typing import Any

import dagster as dg
import psutil
from dagster._config import Array, Field, Noneable
from dagster._core.launcher import CheckRunHealthResult, DefaultRunLauncher, LaunchRunContext, WorkerStatus
from dagster._grpc.types import ExecuteRunArgs
from dagster._serdes import ConfigurableClassData, serialize_value

from mre_pipeline import settings
from mre_pipeline.instance.warm_start import WarmRunWorkers

WORKER_STARTED_PREFIX = "Started process for run (pid:"
# The worker logs its "started" event just after its process starts; allow for clock granularity.
START_TIME_SLACK_S = 2.0


log = logging.getLogger(__name__)

# Tag of a run whose worker was forked warm (visible in the UI; terminate signals that worker itself).
RUN_START_TAG = "mre/run_start"


class MonitoredRunLauncher(DefaultRunLauncher):
    """``DefaultRunLauncher`` whose run workers can be health-checked by run monitoring, and start warm."""

    def __init__(
        self, inst_data: ConfigurableClassData | None = None, warm_modules: list[str] | None = None
    ) -> None:
        super().__init__(inst_data=inst_data)
        self._warm = (
            WarmRunWorkers(
                warm_modules,
                [settings.PROJECT_ROOT / "mre_pipeline", settings.PROJECT_ROOT / "dbt_summaries"],
            )
            if warm_modules
            else None
        )

    @classmethod
    def config_type(cls) -> dict[str, Field]:
        return {
            "warm_modules": Field(
                Noneable(Array(str)),
                is_required=False,
                default_value=None,
                description="Code-location modules to import once; their runs' workers are forked from it.",
            )
        }

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]
    ) -> MonitoredRunLauncher:
        return cls(inst_data=inst_data, warm_modules=config_value.get("warm_modules"))

    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.dagster_run
        if not self._starts_warm(run):
            super().launch_run(context)
            return
        self._instance.add_run_tags(run.run_id, {RUN_START_TAG: "warm"})
        args = ExecuteRunArgs(
            job_origin=run.job_code_origin, run_id=run.run_id, instance_ref=self._instance.get_ref()
        )
        try:
            self._warm.start(serialize_value(args))
        except Exception:  # noqa: BLE001 - the forkserver died or refused: the code server starts the run
            log.exception("could not fork a warm worker for run %s; starting it cold", run.run_id)
            self._instance.add_run_tags(run.run_id, {RUN_START_TAG: "cold"})
            super().launch_run(context)
            return
        self._run_ids.add(run.run_id)

    def warm_up(self) -> None:
        """Preload the warm run workers now (the daemon's entry point calls this as it starts)."""
        if self._warm is not None:
            self._warm.warm_up()

    def _starts_warm(self, run: dg.DagsterRun) -> bool:
        if self._warm is None:
            return False
        try:
            return self._warm.serves(run.job_code_origin) and self._warm.ready()
        except Exception:  # noqa: BLE001 - never fail a run for want of a warm start: start it cold
            log.exception("could not decide whether run %s starts warm; starting it cold", run.run_id)
            return False

    def terminate(self, run_id: str) -> bool:
        """Warm workers are not the code server's: interrupt the worker as the code server would its own."""
        run = self._instance.get_run_by_id(run_id) if self.has_instance else None
        if run is None or run.is_finished or run.tags.get(RUN_START_TAG) != "warm":
            return super().terminate(run_id)
        self._instance.report_run_canceling(run)
        started = self._worker_started(run_id)
        if started is None or not worker_alive(*started):
            self._instance.report_engine_event("The run worker is not running: nothing to interrupt.", run)
            return False
        os.kill(started[0], signal.SIGINT)
        return True

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        started = self._worker_started(run.run_id)
        if started is None:
            # No worker recorded yet (the run is still being started): start_timeout_seconds covers it.
            return CheckRunHealthResult(WorkerStatus.RUNNING, "run worker not recorded yet")
        pid, logged_at = started
        if worker_alive(pid, logged_at):
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        return CheckRunHealthResult(
            WorkerStatus.FAILED,
            f"the run worker process (pid {pid}) is gone: it was killed or its host restarted",
        )

    def _worker_started(self, run_id: str) -> tuple[int, float] | None:
        return worker_started(self._instance, run_id)


def worker_started(instance: dg.DagsterInstance, run_id: str) -> tuple[int, float] | None:
    """The pid and log time of the run's most recent worker (a resumed run has several)."""
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, ascending=False, limit=50
    ).records
    for record in records:
        entry = record.event_log_entry
        message = entry.dagster_event.message if entry.dagster_event else None
        if message and message.startswith(WORKER_STARTED_PREFIX):
            pid_text = message[len(WORKER_STARTED_PREFIX) :].strip(" ).")
            if pid_text.isdigit():
                return int(pid_text), entry.timestamp
    return None


def worker_alive(pid: int, logged_at: float) -> bool:
    """True when ``pid`` runs and is the process that logged at ``logged_at`` (not a reused pid)."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        return process.create_time() <= logged_at + START_TIME_SLACK_S
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:  # exists, owned by someone else: alive
        return True
