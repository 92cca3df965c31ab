"""The Celery app a run worker serves: ``celery -A mre_pipeline.instance.celery_worker worker ...``.

It is dagster-celery's own app and tasks (``make_app``, ``execute_job``, ``resume_job``), configured from
the instance the worker runs on (``$DAGSTER_HOME/dagster.yaml``, i.e. ``deploy/dagster.yaml``): the same
broker, result backend and queue as the run launcher, from one file, with the URLs from the environment.
(``dagster-celery worker start -A mre_pipeline.instance.celery_worker`` starts the same worker, through an
extra wrapper process.)

Two additions, both for operators:
- the worker imports the code locations before it forks its pool, so a run starts without the seconds of
  importing Dagster definitions (and dagster-dbt) in each pool process;
- each run is tagged with the Celery node that executes it (``mre/celery_worker``), shown in the Dagster UI
  and used by the health check's messages.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

import dagster as dg
from celery import signals
from dagster._grpc.types import ExecuteRunArgs, ResumeRunArgs
from dagster._serdes import unpack_value
from dagster_celery.launcher import CeleryRunLauncher
from dagster_celery.make_app import make_app
from dagster_celery.tasks import create_execute_job_task, create_resume_job_task

from mre_pipeline.instance.celery_launcher import WORKER_TAG

log = logging.getLogger(__name__)

# The modules of workspace.yaml's code locations: every run a worker executes loads one of them.
CODE_LOCATION_MODULES = ("mre_pipeline.definitions", "mre_pipeline.summaries_definitions")


class WorkerConfigError(RuntimeError):
    """The worker's instance is not set up for Celery (one sentence for the operator)."""


def launcher_app_args() -> dict[str, Any]:
    """The Celery app settings of the instance's run launcher (broker, backend, queue, Celery options)."""
    with dg.DagsterInstance.get() as instance:
        launcher = instance.run_launcher
        if not isinstance(launcher, CeleryRunLauncher):
            raise WorkerConfigError(
                f"the Dagster instance in DAGSTER_HOME uses {type(launcher).__name__}, not the Celery run "
                "launcher; point DAGSTER_HOME at a folder holding deploy/dagster.yaml"
            )
        return launcher.app_args()


app = make_app(launcher_app_args())
execute_job = create_execute_job_task(app)
resume_job = create_resume_job_task(app)


@signals.worker_init.connect
def preload_code_locations(**_: Any) -> None:
    """Import the code locations once in the worker's main process; its pool processes inherit them."""
    for module in CODE_LOCATION_MODULES:
        importlib.import_module(module)


def run_id_of(kwargs: dict[str, Any] | None) -> str | None:
    """The Dagster run id in an ``execute_job``/``resume_job`` task's arguments."""
    for key in ("execute_job_args_packed", "resume_job_args_packed"):
        packed = (kwargs or {}).get(key)
        if packed is not None:
            args = unpack_value(packed)
            if isinstance(args, ExecuteRunArgs | ResumeRunArgs):
                return args.run_id
    return None


@signals.task_prerun.connect
def tag_run_with_worker(task: Any = None, kwargs: dict[str, Any] | None = None, **_: Any) -> None:
    """Record which Celery node executes the run (never stops the run if it cannot)."""
    try:
        run_id = run_id_of(kwargs)
        node = getattr(getattr(task, "request", None), "hostname", None)
        if run_id and node:
            with dg.DagsterInstance.get() as instance:
                instance.add_run_tags(run_id, {WORKER_TAG: node})
    except Exception:  # noqa: BLE001 - a missing tag only costs the operator a detail
        log.exception("could not tag the run with its Celery worker")
