"""Dagster's default run launcher, plus the run-worker health check that lets run monitoring see deaths.

The stock ``DefaultRunLauncher`` starts each run in a process of the local code server but cannot tell
whether that process is still alive, so a run whose worker is killed (``kill -9``, OOM, a host reboot)
stays ``STARTED`` for ever and keeps its pool slots. Dagster's run monitoring daemon asks the launcher
``check_run_worker_health``; this subclass answers it from the worker's pid, which the run itself records
in its first event ("Started process for run (pid: N)"). Run monitoring then fails the run, Dagster's run
retries re-execute it once, and the freed pool slots let the queue move on: Dagster's own machinery,
given the one fact it lacked.

The pid check is valid where the run workers run on the monitoring daemon's host, which is what the default
launcher does on one machine (``mre-pipeline dev``). The distributed topology (deploy/) runs its workers
through Celery; ``celery_launcher.py`` checks those by asking the workers through the broker.
"""

from __future__ import annotations

import dagster as dg
import psutil
from dagster._core.launcher import CheckRunHealthResult, DefaultRunLauncher, WorkerStatus

WORKER_STARTED_PREFIX = "Started process for run (pid:"
# The worker logs its "started" event just after its process starts; allow for clock granularity.
START_TIME_SLACK_S = 2.0


class MonitoredRunLauncher(DefaultRunLauncher):
    """``DefaultRunLauncher`` whose run workers can be health-checked by run monitoring."""

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
