"""Warm run workers: a run of a preloaded code location is forked from the preloaded process and behaves
like any other run (events, the pid it logs, termination); changed sources send runs back to a cold start."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import dagster as dg
import psutil
import pytest
from dagster._core.code_pointer import ModuleCodePointer
from dagster._core.launcher import LaunchRunContext
from dagster._core.origin import JobPythonOrigin, RepositoryPythonOrigin

from mre_pipeline.instance.run_launcher import RUN_START_TAG, MonitoredRunLauncher, worker_started
from mre_pipeline.instance.warm_start import WarmRunWorkers
from mre_pipeline_tests.instance import warm_location

MODULE = "mre_pipeline_tests.instance.warm_location"
T = TypeVar("T")


def _wait(check: Callable[[], T | None], timeout_s: float, what: str) -> T:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


@pytest.fixture(scope="module")
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sources")
    (folder / "definitions.py").write_text("defs = None\n")
    os.utime(folder / "definitions.py", (time.time() - 60, time.time() - 60))
    return folder


@pytest.fixture(scope="module")
def pid_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    # Set before the forkserver starts: its children inherit the environment it started with.
    path = tmp_path_factory.mktemp("worker") / "pid"
    os.environ[warm_location.PID_FILE_ENV] = str(path)
    yield path
    os.environ.pop(warm_location.PID_FILE_ENV, None)


@pytest.fixture(scope="module")
def launcher(instance: dg.DagsterInstance, sources: Path, pid_file: Path) -> MonitoredRunLauncher:
    warm_launcher = MonitoredRunLauncher(warm_modules=[MODULE])
    warm_launcher._warm = WarmRunWorkers([MODULE], [sources])
    warm_launcher.register_instance(instance)
    assert warm_launcher._warm.ready() is False  # the first call starts loading; this run would start cold
    _wait(warm_launcher._warm.ready, 120, "the preloaded run-worker process")
    return warm_launcher


def _origin(job_name: str, module: str = MODULE) -> JobPythonOrigin:
    pointer = ModuleCodePointer(module, "defs", working_directory=os.getcwd())
    return JobPythonOrigin(job_name, RepositoryPythonOrigin(sys.executable, pointer))


def _launch(instance: dg.DagsterInstance, launcher: MonitoredRunLauncher, job_name: str) -> dg.DagsterRun:
    job = warm_location.defs.resolve_job_def(job_name)
    run = instance.create_run_for_job(job_def=job, job_code_origin=_origin(job_name))
    launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=None))
    return run


def _status(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRunStatus | None:
    run = instance.get_run_by_id(run_id)
    return run.status if run and run.is_finished else None


def test_a_preloaded_locations_run_is_forked_warm_and_succeeds(
    instance: dg.DagsterInstance, launcher: MonitoredRunLauncher, pid_file: Path
) -> None:
    run = _launch(instance, launcher, "quick_job")
    assert _wait(lambda: _status(instance, run.run_id), 120, "the run to end") == dg.DagsterRunStatus.SUCCESS
    assert instance.get_run_by_id(run.run_id).tags[RUN_START_TAG] == "warm"
    worker_pid, parent_pid = (int(part) for part in pid_file.read_text().split())
    assert worker_started(instance, run.run_id)[0] == worker_pid  # monitoring checks the right process
    assert worker_pid != os.getpid() and parent_pid != os.getpid()  # forked by the forkserver, not by us
    assert "multiprocessing.forkserver" in " ".join(psutil.Process(parent_pid).cmdline())


def test_terminating_a_warm_run_interrupts_its_worker_and_cancels_the_run(
    instance: dg.DagsterInstance, launcher: MonitoredRunLauncher
) -> None:
    run = _launch(instance, launcher, "waits_job")
    pid, _ = _wait(lambda: worker_started(instance, run.run_id), 120, "the worker's start")
    _wait(lambda: instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED, 60, "STARTED")
    assert launcher.terminate(run.run_id) is True
    assert _wait(lambda: _status(instance, run.run_id), 60, "the run to end") == dg.DagsterRunStatus.CANCELED
    _wait(
        lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE, 30, "exit"
    )


def test_a_run_the_forkserver_cannot_take_starts_cold(
    instance: dg.DagsterInstance, launcher: MonitoredRunLauncher, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(_args: str) -> int:
        raise ConnectionRefusedError("forkserver gone")

    monkeypatch.setattr(launcher._warm, "start", refuse)
    run = instance.create_run_for_job(
        job_def=warm_location.defs.resolve_job_def("quick_job"), job_code_origin=_origin("quick_job")
    )
    with pytest.raises(dg.DagsterInvariantViolationError, match="requires a workspace"):
        launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=None))  # the cold path was taken
    assert instance.get_run_by_id(run.run_id).tags[RUN_START_TAG] == "cold"


def test_changed_sources_send_runs_back_to_a_cold_start(
    instance: dg.DagsterInstance, launcher: MonitoredRunLauncher, sources: Path
) -> None:
    assert launcher._starts_warm(
        instance.create_run_for_job(
            job_def=warm_location.defs.resolve_job_def("quick_job"), job_code_origin=_origin("quick_job")
        )
    )
    other_module = instance.create_run_for_job(
        job_def=warm_location.defs.resolve_job_def("quick_job"),
        job_code_origin=_origin("quick_job", module="mre_pipeline.definitions"),
    )
    assert launcher._starts_warm(other_module) is False  # not preloaded: the code server starts it
    (sources / "definitions.py").write_text("defs = 'edited'\n")
    run = instance.create_run_for_job(
        job_def=warm_location.defs.resolve_job_def("quick_job"), job_code_origin=_origin("quick_job")
    )
    assert launcher._starts_warm(run) is False
    with pytest.raises(dg.DagsterInvariantViolationError, match="requires a workspace"):
        launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=None))  # the cold path was taken
