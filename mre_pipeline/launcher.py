"""``mre-pipeline dev``: Postgres, migrations, then Dagster's services as this process's own children.

The children are the ones a deployment runs: one ``dagster code-server start`` per code location in
``workspace.yaml``, ``dagster-webserver`` and ``dagster-daemon run``, all on the instance in
``DAGSTER_HOME`` (``.mre/dagster``, whose ``dagster.yaml`` links to the top-level one), so Dagster's own
commands work on the same instance beside it. The launcher behaves like a service (see supervision.py):
SIGINT, SIGTERM or SIGHUP stop everything it started, however it was started; ``kill -9`` of the launcher
leaves nothing behind; a second launcher on the same state folder is refused, naming the first.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from mre_pipeline import settings
from mre_pipeline.supervision import AlreadyRunning, SingleInstance, Watchdog, spawn, stop_groups
from mre_pipeline.warehouse import migrate, server
from mre_pipeline.warehouse.engine import libpq_url

BIN = Path(sys.executable).parent
# Dagster's daemon CLI with a 1 s sensor loop (see mre_pipeline/instance/daemon.py).
DAEMON_COMMAND = [sys.executable, "-m", "mre_pipeline.instance.daemon"]
# Dagster's services and code servers stop in 1-5 s on SIGTERM (they treat it as Ctrl-C); whatever is
# left after this is killed, so a stop takes well under 20 s.
STOP_GRACE_S = 12
CODE_SERVER_READY_TIMEOUT_S = 300


class LauncherError(RuntimeError):
    """A reason not to start, for the user (one sentence)."""


def dev_lock() -> SingleInstance:
    return SingleInstance(settings.state_dir() / "dev.lock")


def running_dev() -> dict[str, Any] | None:
    """The running ``mre-pipeline dev`` on this state folder (pid, host, port, url), or None."""
    return dev_lock().holder()


def prepare_dagster_home() -> Path:
    """``.mre/dagster`` with a ``dagster.yaml`` that links to the project's: the instance Dagster uses."""
    home = settings.dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    link = home / "dagster.yaml"
    target = settings.PROJECT_ROOT / "dagster.yaml"
    if not (link.is_symlink() and Path(os.readlink(link)) == target):
        link.unlink(missing_ok=True)
        link.symlink_to(target)
    return home


def prepare_environment() -> tuple[dict[str, str], server.DatabaseUrls]:
    """Start or find Postgres, create both databases, migrate, and return the environment for Dagster."""
    urls = server.resolve_urls()
    server.ensure_databases(urls)
    migrate.upgrade(urls.warehouse)
    env = dict(os.environ)
    env["MRE_DATABASE_URL"] = urls.warehouse
    env["MRE_DAGSTER_DATABASE_URL"] = urls.dagster
    env["DAGSTER_HOME"] = str(prepare_dagster_home())
    env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")  # dbt and dagster from this environment
    return env, urls


# -- the code locations -------------------------------------------------------------------------------


@dataclass
class CodeLocation:
    """One ``python_module``/``python_file`` entry of workspace.yaml, served by our own code server."""

    name: str
    pointer: list[str]
    port: int = 0
    process: subprocess.Popen | None = field(default=None, repr=False)


def _location(entry: Mapping[str, Any]) -> CodeLocation | None:
    (kind, spec), *rest = entry.items()
    if rest or kind not in ("python_module", "python_file"):
        return None
    if isinstance(spec, str):
        spec = {"module_name" if kind == "python_module" else "relative_path": spec}
    if kind == "python_module":
        pointer = ["-m", spec["module_name"]]
        default_name = spec["module_name"]
    else:
        pointer = ["-f", str(settings.PROJECT_ROOT / spec["relative_path"])]
        default_name = Path(spec["relative_path"]).stem
    if spec.get("attribute"):
        pointer += ["-a", spec["attribute"]]
    if spec.get("working_directory"):
        pointer += ["-d", str(settings.PROJECT_ROOT / spec["working_directory"])]
    return CodeLocation(name=spec.get("location_name") or default_name, pointer=pointer)


def workspace_locations(workspace: Path) -> list[CodeLocation] | None:
    """The code locations to serve ourselves, or None when workspace.yaml has entries we cannot serve
    (then the webserver and the daemon load workspace.yaml themselves)."""
    entries = (yaml.safe_load(workspace.read_text()) or {}).get("load_from") or []
    locations = [_location(e) for e in entries]
    if not locations or any(loc is None for loc in locations):
        return None
    return locations  # type: ignore[return-value]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _grpc_workspace(locations: list[CodeLocation], home: Path) -> Path:
    path = home / "workspace.grpc.yaml"
    load_from = [
        {"grpc_server": {"host": "127.0.0.1", "port": loc.port, "location_name": loc.name}}
        for loc in locations
    ]
    path.write_text(
        "# Written by `mre-pipeline dev` from workspace.yaml: the code servers it runs.\n"
        + yaml.safe_dump({"load_from": load_from}, sort_keys=False)
    )
    return path


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait_for_code_servers(locations: list[CodeLocation], stop: _Stop) -> None:
    """Until each code server listens (`dagster code-server start` opens its port once the code loaded)."""
    deadline = time.monotonic() + CODE_SERVER_READY_TIMEOUT_S
    pending = list(locations)
    while pending and not stop.requested:
        for loc in list(pending):
            assert loc.process is not None
            if loc.process.poll() is not None:
                raise LauncherError(
                    f"the code server for {loc.name} exited with code {loc.process.returncode}"
                )
            if _port_open(loc.port):
                pending.remove(loc)
        if time.monotonic() > deadline:
            raise LauncherError(f"the code servers did not load within {CODE_SERVER_READY_TIMEOUT_S} s")
        if pending:
            time.sleep(0.5)


# -- signals --------------------------------------------------------------------------------------------


class _Stop:
    """Set by SIGINT, SIGTERM or SIGHUP (unless SIGHUP is ignored, as under nohup)."""

    def __init__(self) -> None:
        self.signum: int | None = None

    @property
    def requested(self) -> bool:
        return self.signum is not None

    def install(self) -> None:
        def handler(signum: int, _frame: object) -> None:
            self.signum = signum

        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)
        if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
            signal.signal(signal.SIGHUP, handler)


def _check_port_free(host: str, port: int) -> None:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise LauncherError(
                    f"port {port} on {host} is already in use; stop what uses it or choose another with --port"
                ) from None
            raise


def _already_running_message(owner: Mapping[str, Any]) -> str:
    where = owner.get("url") or f"port {owner.get('port')}"
    return (
        f"mre-pipeline dev is already running (pid {owner.get('pid')}, Dagster UI {where}) on "
        f"{settings.state_dir()}; stop it first (Ctrl-C in its terminal, or kill {owner.get('pid')})"
    )


def _print(message: str) -> None:
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S +0000} - mre-pipeline dev - {message}", flush=True)


def _ui_ready(url: str) -> bool:
    import requests

    try:
        return requests.get(f"{url}/server_info", timeout=2).ok
    except requests.RequestException:
        return False


def run_dev(port: int = 3000, host: str = "127.0.0.1") -> int:
    ui_url = f"http://{host}:{port}"
    lock = dev_lock()
    try:
        lock.acquire({"host": host, "port": port, "url": ui_url, "started": datetime.now(UTC).isoformat()})
    except AlreadyRunning as exc:
        raise LauncherError(_already_running_message(exc.owner)) from None
    stop = _Stop()
    stop.install()
    try:
        _check_port_free(host, port)
        return _run_services(host, port, ui_url, stop)
    finally:
        lock.release()


def _run_services(host: str, port: int, ui_url: str, stop: _Stop) -> int:
    env, urls = prepare_environment()
    _print(f"warehouse {libpq_url(urls.warehouse, hide_password=True)}")
    _print(
        f"Dagster storage {libpq_url(urls.dagster, hide_password=True)}, DAGSTER_HOME={env['DAGSTER_HOME']}"
    )
    _free_slots(urls.dagster)
    _set_pool_limits(urls.dagster)
    watchdog = Watchdog(settings.PROJECT_ROOT, env)
    if urls.embedded_dir is not None:
        watchdog.guard_postgres(urls.embedded_dir)
    children: dict[str, subprocess.Popen] = {}

    def start(name: str, args: list[str]) -> None:
        proc = spawn(args, env, settings.PROJECT_ROOT)
        children[name] = proc
        watchdog.guard_group(proc.pid)

    exit_code = 0
    try:
        workspace = settings.workspace_file()
        locations = workspace_locations(workspace)
        if locations and not stop.requested:
            _print(f"loading code location(s) {', '.join(loc.name for loc in locations)}")
            for loc in locations:
                loc.port = free_port()
                start(
                    f"code server {loc.name}",
                    [str(BIN / "dagster"), "code-server", "start", "-h", "127.0.0.1", "-p", str(loc.port)]
                    + ["--location-name", loc.name, *loc.pointer],
                )
                loc.process = children[f"code server {loc.name}"]
            _wait_for_code_servers(locations, stop)
            workspace = _grpc_workspace(locations, Path(env["DAGSTER_HOME"]))
        if not stop.requested:
            start(
                "dagster-webserver",
                [str(BIN / "dagster-webserver"), "-w", str(workspace), "-h", host, "-p", str(port)],
            )
            start("dagster-daemon", [*DAEMON_COMMAND, "run", "-w", str(workspace)])
            _print(f"Dagster UI: {ui_url}  (Ctrl-C or SIGTERM stops everything)")
        exit_code = _supervise(children, ui_url, stop)
    finally:
        _print("stopping")
        procs = list(children.values())
        stop_groups([p.pid for p in procs], grace_s=STOP_GRACE_S, leaders=procs)
        watchdog.goodbye()
        _free_slots(urls.dagster)
        if urls.embedded_dir is not None and server.release_embedded(urls.embedded_dir):
            _print("stopped the embedded Postgres server")
        _print("stopped")
    return exit_code


def _set_pool_limits(dagster_url: str) -> None:
    from mre_pipeline.pipeline_status import set_pool_limits

    try:
        changed = set_pool_limits(dagster_url)
    except Exception as exc:  # noqa: BLE001 - the pools then keep dagster.yaml's default of one slot
        _print(f"could not set Dagster's pool limits: {' '.join(str(exc).split())[:200]}")
        return
    for pool, slots in changed.items():
        _print(f"pool {pool}: {slots} slots")


def _free_slots(dagster_url: str) -> None:
    from mre_pipeline.pipeline_status import free_slots_of_finished_runs

    try:
        freed = free_slots_of_finished_runs(dagster_url)
    except Exception as exc:  # noqa: BLE001 - a fresh storage has no tables yet; never block a start or stop
        _print(f"could not check Dagster's pool slots: {' '.join(str(exc).split())[:200]}")
        return
    if freed:
        _print(f"gave back the pool slots of {len(freed)} ended run(s): {', '.join(r[:8] for r in freed)}")


def _supervise(children: Mapping[str, subprocess.Popen], ui_url: str, stop: _Stop) -> int:
    """Until a stop signal (exit 0) or a child exits on its own (exit 1)."""
    ready = False
    while not stop.requested:
        for name, proc in children.items():
            if proc.poll() is not None:
                _print(f"{name} exited with code {proc.returncode}; stopping the others")
                return 1
        if not ready and _ui_ready(ui_url):
            ready = True
            _print(f"ready: {ui_url}")
        time.sleep(0.5)
    with contextlib.suppress(ValueError):
        _print(f"{signal.Signals(stop.signum).name} received")
    return 0
