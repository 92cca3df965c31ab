"""Run child processes like a service manager would: stoppable however the parent was started, and never
left behind when the parent dies.

- Each child runs in its own session (process group), so one signal reaches it and everything it starts
  (Dagster's code servers and run workers), and a terminal's Ctrl-C reaches only the parent, which decides.
- Each child gets SIGINT back at its default (a background-started parent passes on an ignored SIGINT, and
  Dagster maps SIGTERM to the SIGINT handler, so such a child ignored both) and PR_SET_PDEATHSIG, so the
  kernel signals it when the parent dies, even by ``kill -9``.
- A watchdog process, in a session of its own, holds the read end of a pipe from the parent: when the pipe
  closes without a goodbye (the parent was killed), it stops every registered process group and runs the
  registered clean-up (stopping the embedded Postgres server).
- ``SingleInstance`` is an ``flock``-ed file that names the running instance; the kernel releases it when
  the holder dies, so a stale file after a crash never blocks.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _child_setup(parent_pid: int) -> None:
    """Runs in the child between fork and exec: default signals, and die with the parent."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    if _libc is not None:
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def spawn(args: Sequence[str], env: Mapping[str, str], cwd: Path, **kwargs: Any) -> subprocess.Popen:
    """Start ``args`` in a new session that dies with this process."""
    parent = os.getpid()
    return subprocess.Popen(  # noqa: PLW1509 - preexec_fn is the only way to set PR_SET_PDEATHSIG
        list(args),
        env=dict(env),
        cwd=cwd,
        start_new_session=True,
        preexec_fn=lambda: _child_setup(parent),
        **kwargs,
    )


def signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_groups(
    pgids: Sequence[int],
    grace_s: float,
    signum: int = signal.SIGTERM,
    leaders: Sequence[subprocess.Popen] = (),
) -> None:
    """``signum`` to every group, then SIGKILL whatever is left after ``grace_s``.

    ``leaders``: the groups' leaders when they are our own children, reaped as they exit (a zombie
    leader would otherwise keep its group looking alive).
    """
    for pgid in pgids:
        signal_group(pgid, signum)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        for leader in leaders:
            leader.poll()
        if not any(group_alive(p) for p in pgids):
            return
        time.sleep(0.1)
    for pgid in pgids:
        signal_group(pgid, signal.SIGKILL)
    for leader in leaders:
        with contextlib.suppress(subprocess.TimeoutExpired):
            leader.wait(5)


class Watchdog:
    """The parent's side of the watchdog: register groups and the Postgres data folder, say goodbye."""

    def __init__(self, cwd: Path, env: Mapping[str, str]) -> None:
        read_fd, self._write_fd = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from mre_pipeline.supervision import watchdog_main; watchdog_main()"],
            stdin=read_fd,
            cwd=cwd,
            env=dict(env),
            start_new_session=True,
        )
        os.close(read_fd)

    def _send(self, **message: object) -> None:
        with contextlib.suppress(BrokenPipeError):
            os.write(self._write_fd, (json.dumps(message) + "\n").encode())

    def guard_group(self, pgid: int) -> None:
        self._send(group=pgid)

    def guard_postgres(self, data_dir: Path) -> None:
        self._send(postgres=str(data_dir))

    def goodbye(self) -> None:
        """A clean exit: the watchdog leaves without touching anything."""
        self._send(done=True)
        with contextlib.suppress(OSError):
            os.close(self._write_fd)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)


def watchdog_main() -> None:
    """Read registrations from stdin until EOF; if the parent never said goodbye, clean up after it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    groups: list[int] = []
    postgres: list[Path] = []
    for line in sys.stdin:
        message = json.loads(line)
        if message.get("done"):
            return
        if "group" in message:
            groups.append(int(message["group"]))
        if "postgres" in message:
            postgres.append(Path(message["postgres"]))
    print("mre-pipeline: the launcher died; stopping the processes it started", file=sys.stderr, flush=True)
    stop_groups(groups, grace_s=10, signum=signal.SIGTERM)
    if postgres:
        from mre_pipeline.warehouse import server

        for data_dir in postgres:
            server.stop_if_unused(data_dir)


class AlreadyRunning(RuntimeError):
    """Another instance holds the lock; ``owner`` is what it wrote about itself."""

    def __init__(self, owner: dict[str, Any]) -> None:
        super().__init__(str(owner))
        self.owner = owner


class SingleInstance:
    """An exclusive ``flock`` on ``path``, holding a JSON description of the holder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self, description: Mapping[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = self._read(fd)
            os.close(fd)
            raise AlreadyRunning(owner) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), **description}).encode(), 0)
        self._fd = fd

    @staticmethod
    def _read(fd: int) -> dict[str, Any]:
        try:
            return json.loads(os.pread(fd, 65536, 0).decode() or "{}")
        except ValueError:
            return {}

    def holder(self) -> dict[str, Any] | None:
        """The running instance's description, or None when nobody holds the lock."""
        if not self.path.exists():
            return None
        fd = os.open(self.path, os.O_RDONLY)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return self._read(fd)
            return None
        finally:
            os.close(fd)

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)
            self._fd = None
