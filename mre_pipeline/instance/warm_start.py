"""Run workers that start warm: forked from a process that has already imported the code locations.

A cold run worker is a fresh interpreter that imports Dagster (2 s here) and the code location (1-3 s more)
before its first step; five started at once share two cores and each takes 8 s, which is what a racer's
request and a burst of them waited for. Python's ``forkserver`` start method (the one Dagster's multiprocess
executor offers with ``preload_modules``) keeps one clean, single-threaded process that imported the listed
modules once; each run worker is forked from it and executes the run exactly as ``dagster api execute_run``
does, in well under a second.

Code loaded once goes stale when the files change under a running service (``mre-pipeline dev`` while
someone edits). The launcher compares the sources' modification times with the time the forkserver loaded
them and, once they changed, starts runs cold from the (reloadable) code servers again until the daemon
restarts.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from multiprocessing import forkserver
from pathlib import Path

from dagster._core.origin import JobPythonOrigin

# Under dagster.daemon, so the daemon prints it beside its own lines (when warm starts begin, and why not).
log = logging.getLogger("dagster.daemon.WarmRunWorkers")
READY_MESSAGE = "run workers start warm"

# What a code location's behaviour depends on besides Python: the dbt project the summaries load.
_SOURCE_SUFFIXES = {".py", ".sql", ".yml", ".yaml"}
# Imported by every run worker (execute_run) or by the daemon's main module, which each child re-imports.
_RUN_WORKER_IMPORTS = (
    "dagster._cli.api",
    "dagster._daemon.cli",
    "dagster._daemon.sensor",
    "mre_pipeline.settings",
)
_SKIPPED_DIRS = {"target", "logs", "dbt_packages", "__pycache__", ".venv", ".mre"}


def execute_run(serialized_execute_run_args: str) -> None:
    """The forked run worker: ``dagster api execute_run`` without a new interpreter."""
    from dagster._cli.api import execute_run_command

    execute_run_command.callback(input_json=serialized_execute_run_args, compressed_input_json=None)


def _nothing() -> None:
    return None


def newest_source_mtime(roots: Iterable[Path]) -> float:
    """The latest modification time of any source file under ``roots`` (0 when there is none)."""
    newest = 0.0
    pending = [root for root in roots if root.is_dir()]
    while pending:
        folder = pending.pop()
        for entry in folder.iterdir():
            if entry.is_dir():
                if entry.name not in _SKIPPED_DIRS:
                    pending.append(entry)
            elif entry.suffix in _SOURCE_SUFFIXES:
                newest = max(newest, entry.stat().st_mtime)
    return newest


@dataclass
class _Forkserver:
    """The process's one forkserver (Python has one per process): what it preloaded, and since when."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    modules: tuple[str, ...] | None = None
    loaded_at: float | None = None


_FORKSERVER = _Forkserver()


class WarmRunWorkers:
    """Runs of ``modules`` forked from the process's forkserver, and whether they may be right now."""

    def __init__(self, modules: Sequence[str], source_roots: Sequence[Path]) -> None:
        self.modules = tuple(modules)
        self.source_roots = tuple(source_roots)
        self._context = multiprocessing.get_context("forkserver")
        self._stale_reported = False

    def serves(self, origin: JobPythonOrigin | None) -> bool:
        """True when the run's code is one of the preloaded modules, in this interpreter's environment."""
        if origin is None:
            return False
        pointer = origin.repository_origin.code_pointer
        module = getattr(pointer, "module", None)
        # Same environment: the interpreters' folders (bin/python and bin/python3 are the same one).
        same_environment = Path(origin.executable_path or "").absolute().parent == (
            Path(multiprocessing_executable()).absolute().parent
        )
        return module in self.modules and same_environment

    def warm_up(self) -> None:
        """Start preloading now, in the background (the daemon calls this as it starts)."""
        self.ready()

    def ready(self) -> bool:
        """Preloaded and current; the first call starts preloading in the background (returns False)."""
        with _FORKSERVER.lock:
            if _FORKSERVER.modules is None:
                _FORKSERVER.modules = self.modules
                threading.Thread(target=self._load, name="mre-warm-run-workers", daemon=True).start()
                return False
            loaded_at = _FORKSERVER.loaded_at
            if _FORKSERVER.modules != self.modules or loaded_at is None:
                return False
        if newest_source_mtime(self.source_roots) > loaded_at:
            if not self._stale_reported:
                self._stale_reported = True
                log.warning(
                    "the code changed since run workers were preloaded: runs start cold from the code "
                    "servers until the daemon restarts"
                )
            return False
        return True

    def _load(self) -> None:
        started = time.time()
        try:
            forkserver.set_forkserver_preload(preload_list(self.modules))
            # The forkserver accepts its first request only once it has imported the modules.
            probe = self._context.Process(target=_nothing, name="mre-warm-probe")
            probe.start()
            probe.join()
            if probe.exitcode != 0:
                raise RuntimeError(f"a process forked from it exited with code {probe.exitcode}")
        except Exception:  # noqa: BLE001 - runs keep starting cold; the reason goes to the daemon's log
            log.exception("could not start the preloaded run-worker process; runs start cold")
            return
        with _FORKSERVER.lock:
            _FORKSERVER.loaded_at = started
        log.info("%s: preloaded %s in %.1f s", READY_MESSAGE, ", ".join(self.modules), time.time() - started)

    def start(self, serialized_execute_run_args: str) -> int:
        """Fork a run worker for the run; its pid."""
        multiprocessing.active_children()  # reap the handles of run workers that ended
        process = self._context.Process(
            target=execute_run, args=(serialized_execute_run_args,), name="dagster-run-worker"
        )
        process.start()
        return process.pid or 0


def preload_list(modules: Sequence[str]) -> list[str]:
    """What the forkserver imports: the code locations, what each worker imports to run, and then resolves.

    Python (3.11) re-runs the launching process's main module in every child it starts; the daemon's imports
    are preloaded too, or each worker would pay them again (the main module itself is not: re-running a
    module already imported makes runpy warn in every worker).
    """
    return [*modules, *_RUN_WORKER_IMPORTS, "mre_pipeline.instance.warm_resolve"]


def multiprocessing_executable() -> str:
    """The interpreter the forkserver (and so every warm run worker) runs."""
    from multiprocessing import spawn

    return os.fsdecode(spawn.get_executable())
