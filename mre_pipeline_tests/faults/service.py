"""Helpers for the fault suite: a `mre-pipeline dev` that can be SIGKILLed whole and restarted, and the web
app's side of the queue (role ``mre_webapp``, plain SQL)."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import psutil
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from mre_pipeline import settings
from mre_pipeline.warehouse import migrate
from mre_pipeline_tests.dagster_process import BIN, free_port, stop_group, wait_for_http

FINAL = ("succeeded", "failed", "rejected")


def wait_until(predicate: Callable[[], Any], timeout_s: float, what: str, interval_s: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


class DevService:
    """`mre-pipeline dev` in its own session, started, SIGKILLed (whole tree) and restarted on demand."""

    def __init__(self, env: Mapping[str, str], workdir: Path):
        self.env = {**os.environ, **env, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        self.env.pop("DAGSTER_HOME", None)
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self, timeout_s: float = 180) -> None:
        self.starts += 1
        self.port = free_port()
        self.log = self.workdir / f"dev-{self.starts}.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [str(BIN / "mre-pipeline"), "dev", "--port", str(self.port)],
                cwd=settings.PROJECT_ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for_http(f"http://127.0.0.1:{self.port}/server_info", timeout_s, self.proc, self.log)

    def kill_9(self) -> list[str]:
        """SIGKILL the launcher and every process under it at once; returns any process still alive."""
        assert self.proc is not None
        root = psutil.Process(self.proc.pid)
        tree = [root, *root.children(recursive=True)]
        for process in tree:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.send_signal(signal.SIGKILL)
        _, alive = psutil.wait_procs(tree, timeout=10)
        self.proc.wait(10)
        return [f"{p.pid} {p.name()}" for p in alive]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            stop_group(self.proc)


class WebApp:
    """The web app's connection to the queue: insert as ``mre_webapp``, read the row back."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine

    def request(self, track: str, event_id: int, force: bool = False) -> int:
        with self.engine.begin() as conn:
            return conn.execute(
                sa.text(
                    "INSERT INTO mre.ingestion_requests (request_type, track_slug, source_event_id, force) "
                    "VALUES ('ingest_event', :track, :event, :force) RETURNING request_id"
                ),
                {"track": track, "event": str(event_id), "force": force},
            ).scalar_one()

    def row(self, request_id: int) -> sa.Row:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.text("SELECT * FROM mre.ingestion_requests WHERE request_id = :i"), {"i": request_id}
            ).one()

    def final(self, request_id: int) -> sa.Row | None:
        row = self.row(request_id)
        return row if row.status in FINAL else None

    def dispose(self) -> None:
        self.engine.dispose()


def as_webapp(warehouse_url: str) -> WebApp:
    """Give ``mre_webapp`` a fresh password and connect as it."""
    password = secrets.token_urlsafe(12)
    os.environ["MRE_WEBAPP_PASSWORD"] = password
    try:
        migrate.apply_role_passwords(warehouse_url)
    finally:
        os.environ.pop("MRE_WEBAPP_PASSWORD", None)
    url = make_url(warehouse_url).set(username="mre_webapp", password=password)
    return WebApp(sa.create_engine(url, poolclass=sa.pool.NullPool))
