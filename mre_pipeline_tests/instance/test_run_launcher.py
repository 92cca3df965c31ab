"""Run monitoring's question to the launcher: is this run's worker process still alive?"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import dagster as dg

from mre_pipeline.instance.run_launcher import MonitoredRunLauncher, WorkerStatus, worker_alive


@dg.asset
def noop() -> None:
    return None


def _run_with_worker(instance: dg.DagsterInstance, pid: int) -> dg.DagsterRun:
    result = dg.materialize([noop], instance=instance)
    run = instance.get_run_by_id(result.run_id)
    instance.report_engine_event(f"Started process for run (pid: {pid}).", run)
    return run


def test_a_live_worker_is_running_and_a_dead_one_failed() -> None:
    launcher = MonitoredRunLauncher()
    with dg.instance_for_test() as instance:
        launcher.register_instance(instance)
        alive = _run_with_worker(instance, os.getpid())
        assert launcher.check_run_worker_health(alive).status == WorkerStatus.RUNNING
        gone = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
        )
        dead = _run_with_worker(instance, int(gone.stdout))
        health = launcher.check_run_worker_health(dead)
        assert health.status == WorkerStatus.FAILED
        assert f"pid {int(gone.stdout)}" in health.msg and "is gone" in health.msg


def test_a_reused_pid_is_not_mistaken_for_the_worker() -> None:
    """A process created after the worker logged its start is another process that got the same pid."""
    later = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert worker_alive(later.pid, logged_at=0.0) is False
        assert worker_alive(later.pid, logged_at=time.time()) is True
    finally:
        later.kill()
        later.wait()


def test_a_run_without_a_recorded_worker_is_left_to_the_start_timeout() -> None:
    launcher = MonitoredRunLauncher()
    with dg.instance_for_test() as instance:
        launcher.register_instance(instance)
        run = instance.get_run_by_id(dg.materialize([noop], instance=instance).run_id)
        assert launcher.check_run_worker_health(run).status == WorkerStatus.RUNNING
