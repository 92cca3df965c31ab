"""Run real Dagster processes (``mre-pipeline dev``, ``dagster-webserver``, ``dagster-daemon``) for
end-to-end tests.

Started in their own session so SIGINT reaches the whole process group, and readiness is the webserver
answering ``/server_info``. ``session_processes`` finds every process a test started, however deep, by a
marker in the environment (every child inherits it, Postgres included).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

import requests

from mre_pipeline import settings

BIN = Path(sys.executable).parent
START_TIMEOUT_S = 300  # loading the code location takes 10-60 s on a busy 2-core machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def count(url: str, sql: str) -> int:
    """One scalar from ``url`` (any Postgres URL spelling)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql(sql).scalar_one()
    finally:
        engine.dispose()


def wait_for_http(url: str, timeout_s: float, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"process exited with {proc.returncode} before {url} answered:\n{log.read_text()[-4000:]}"
            )
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout_s} s:\n{log.read_text()[-4000:]}")


def stop_group(proc: subprocess.Popen, timeout_s: float = 30) -> int:
    """SIGINT the whole group (what Ctrl-C does), then SIGKILL whatever is left."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(timeout_s)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    return proc.wait(10)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def session_processes(marker: str) -> list[int]:
    """Live (non-zombie) processes whose environment contains ``marker`` (e.g. ``MRE_TEST_SESSION=abc``)."""
    needle = marker.encode() + b"\0"
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if needle in environ + b"\0" and state != "Z":
            found.append(int(entry.name))
    return found


def wait_for_no_processes(marker: str, timeout_s: float) -> list[int]:
    """Wait until no process carries ``marker``; returns the survivors (empty when all are gone)."""
    deadline = time.monotonic() + timeout_s
    survivors = session_processes(marker)
    while survivors and time.monotonic() < deadline:
        time.sleep(0.2)
        survivors = session_processes(marker)
    return survivors


def describe(pids: list[int]) -> str:
    lines = []
    for pid in pids:
        with suppress(OSError):
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            lines.append(f"{pid}: {command[:160]}")
    return "\n".join(lines)


# Lines that say "all is well" once a second or once per dbt node: left out of a failure's log excerpt,
# so that the excerpt reaches back to the run failures and sensor warnings that explain it.
_ROUTINE_LINES = (
    "Checking for new runs for sensor",
    "Checking run ",
    "STEP_OUTPUT",
    "ASSET_MATERIALIZATION",
    "ASSET_CHECK_EVALUATION",
    "START sql ",
    "START test ",
    " PASS ",
    " OK created ",
)


def log_tail(log: Path, lines: int = 150) -> str:
    """The end of a service log without routine lines, so that a failure seen only in CI shows what the
    daemon and the runs said (repeated sensor skip messages are kept once, with their count)."""
    kept: list[str] = []
    repeats = 0
    for line in log.read_text(errors="replace").splitlines() if log.exists() else []:
        if any(marker in line for marker in _ROUTINE_LINES):
            continue
        message = line.split(" - ", 3)[-1]
        if kept and " skipped" in line and kept[-1].split(" - ", 3)[-1] == message:
            repeats += 1
            continue
        if repeats:
            kept.append(f"    (the line above, {repeats} more time(s))")
            repeats = 0
        kept.append(line)
    if repeats:
        kept.append(f"    (the line above, {repeats} more time(s))")
    text = kept[-lines:]
    return f"--- last {len(text)} lines of {log}, routine lines left out ---\n" + "\n".join(text)


@contextmanager
def running(
    args: list[str], env: Mapping[str, str], port: int, log: Path, timeout_s: float = 120
) -> Iterator[subprocess.Popen]:
    """Start ``args`` in a new session, wait for the webserver on ``port``, stop the group on exit."""
    full_env = {**os.environ, **env, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    full_env.pop("DAGSTER_HOME", None)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            args,
            cwd=settings.PROJECT_ROOT,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for_http(f"http://127.0.0.1:{port}/server_info", timeout_s, proc, log)
            try:
                yield proc
            except AssertionError as failure:
                raise AssertionError(f"{failure}\n{log_tail(log)}") from failure
        finally:
            stop_group(proc)
