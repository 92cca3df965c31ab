"""The distributed instance (deploy/dagster.yaml) and the Celery app its workers serve agree on one broker.

Loaded in a fresh process, as a worker loads them: ``DAGSTER_HOME`` holding a copy of deploy/dagster.yaml,
the URLs from the environment. Nothing here contacts Redis.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from dagster._core.code_pointer import ModuleCodePointer
from dagster._core.origin import JobPythonOrigin, RepositoryPythonOrigin
from dagster._grpc.types import ExecuteRunArgs, ResumeRunArgs
from dagster._serdes import pack_value

from mre_pipeline import settings

BROKER = "redis://127.0.0.1:6/3"

PROBE = """
import json
import dagster as dg
from mre_pipeline.instance import celery_worker
with dg.DagsterInstance.get() as instance:
    launcher = instance.run_launcher
    print(json.dumps({
        "launcher": type(launcher).__name__,
        "grace": launcher.worker_lost_grace_s,
        "compute_logs": type(instance.compute_log_manager).__name__,
        "broker": celery_worker.app.conf.broker_url,
        "backend": celery_worker.app.conf.result_backend,
        "tasks": sorted(t for t in celery_worker.app.tasks if not t.startswith("celery.")),
        "prefetch": celery_worker.app.conf.worker_prefetch_multiplier,
    }))
"""


def _home(tmp_path: Path) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(settings.PROJECT_ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    return home


def test_the_worker_app_is_the_launchers_app(dagster_storage_url: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DAGSTER_HOME": str(_home(tmp_path)),
        "MRE_DAGSTER_DATABASE_URL": dagster_storage_url,
        "MRE_CELERY_BROKER_URL": BROKER,
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {
        "launcher": "MonitoredCeleryRunLauncher",
        "grace": 20.0,
        "compute_logs": "NoOpComputeLogManager",
        "broker": BROKER,
        "backend": BROKER,
        "tasks": ["execute_job", "resume_job"],
        "prefetch": 1,
    }


def test_a_worker_refuses_an_instance_without_the_celery_launcher(tmp_path: Path) -> None:
    """The single-machine instance (top-level dagster.yaml) is not a worker's: one sentence says so."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    result = subprocess.run(
        [sys.executable, "-c", "import mre_pipeline.instance.celery_worker"],
        env={**os.environ, "DAGSTER_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode != 0
    assert "uses DefaultRunLauncher, not the Celery run launcher" in result.stderr


def test_the_run_id_is_read_from_either_task(dagster_storage_url: str, tmp_path: Path) -> None:
    script = """
import json, sys
from mre_pipeline.instance.celery_worker import run_id_of
print(json.dumps([run_id_of(json.loads(line)) for line in sys.stdin]))
"""
    origin = JobPythonOrigin(
        "ingest",
        RepositoryPythonOrigin(sys.executable, ModuleCodePointer("mre_pipeline.definitions", "defs", None)),
    )
    execute = ExecuteRunArgs(job_origin=origin, run_id="run-a", instance_ref=None)
    resume = ResumeRunArgs(job_origin=origin, run_id="run-b", instance_ref=None)
    lines = [
        json.dumps({"execute_job_args_packed": pack_value(execute)}),
        json.dumps(
            {"execute_job_args_packed": pack_value(resume)}
        ),  # what CeleryRunLauncher.resume_run sends
        json.dumps({"resume_job_args_packed": pack_value(resume)}),
        json.dumps({"other": 1}),
    ]
    env = {
        **os.environ,
        "DAGSTER_HOME": str(_home(tmp_path)),
        "MRE_DAGSTER_DATABASE_URL": dagster_storage_url,
        "MRE_CELERY_BROKER_URL": BROKER,
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        input="\n".join(lines) + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == ["run-a", "run-b", "run-b", None]
