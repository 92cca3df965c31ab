"""`mre-pipeline dev` behaves like a service: it fetches an empty catalogue by itself, refuses a second
instance, stops on SIGTERM or SIGINT however it was started, and leaves nothing behind, even after kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from mre_pipeline import settings
from mre_pipeline.fake_liverc import FakeLiveRCServer
from mre_pipeline.fake_liverc.generator import generate_site
from mre_pipeline.warehouse import server
from mre_pipeline.warehouse.engine import libpq_url
from mre_pipeline.warehouse.scratch import scratch_database
from mre_pipeline_tests.dagster_process import (
    BIN,
    START_TIMEOUT_S,
    count,
    describe,
    free_port,
    session_processes,
    wait_for_http,
    wait_for_no_processes,
)

pytestmark = pytest.mark.e2e


def _marker() -> tuple[str, str]:
    value = uuid.uuid4().hex
    return "MRE_TEST_SESSION", value


def _start_dev(env: dict[str, str], port: int, log: Path, like_nohup: bool = False) -> subprocess.Popen:
    """Start the launcher; ``like_nohup``: SIGINT and SIGHUP ignored, as for `nohup ./mre dev &` in a script."""

    def ignore_interrupts() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    full_env = {**os.environ, **env, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    full_env.pop("DAGSTER_HOME", None)
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(BIN / "mre-pipeline"), "dev", "--port", str(port)],
            cwd=settings.PROJECT_ROOT,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=ignore_interrupts if like_nohup else None,
            start_new_session=not like_nohup,
        )


def _stop_and_measure(proc: subprocess.Popen, signum: int, marker: str) -> tuple[int, float, list[int]]:
    started = time.monotonic()
    os.kill(proc.pid, signum)  # the launcher alone, as a service manager or `kill PID` does
    code = proc.wait(120)
    survivors = wait_for_no_processes(marker, timeout_s=60)
    return code, time.monotonic() - started, survivors


@pytest.fixture
def own_dagster_storage(pg_base_url: str) -> Iterator[str]:
    """Dagster storage for this test alone: runs it interrupts must not hold pool slots for later tests."""
    with scratch_database(pg_base_url, "dagster_dev", migrated=False) as url:
        yield url


def test_background_dev_fetches_the_catalogue_refuses_a_second_and_stops_on_sigterm(
    clean_warehouse: sa.Engine, warehouse_url: str, own_dagster_storage: str, tmp_path: Path
) -> None:
    dagster_storage_url = own_dagster_storage
    site = generate_site(seed=5, tracks=3, events_per_track=1)
    name, value = _marker()
    port = free_port()
    log = tmp_path / "dev.log"
    with FakeLiveRCServer(site.fake_site()) as liverc:
        env = {
            # plain libpq URLs, as providers hand them out
            "MRE_DATABASE_URL": libpq_url(warehouse_url),
            "MRE_DAGSTER_DATABASE_URL": libpq_url(dagster_storage_url).replace(
                "postgresql://", "postgres://"
            ),
            "MRE_STATE_DIR": str(tmp_path / "state"),
            "MRE_LIVERC_MIN_INTERVAL_S": "0.05",
            name: value,
            **liverc.env(),
        }
        proc = _start_dev(env, port, log, like_nohup=True)
        try:
            wait_for_http(f"http://127.0.0.1:{port}/server_info", START_TIMEOUT_S, proc, log)
            assert requests.get(f"http://127.0.0.1:{port}/server_info", timeout=5).ok
            home = tmp_path / "state" / "dagster"
            assert (home / "dagster.yaml").resolve() == settings.PROJECT_ROOT / "dagster.yaml"

            # Nobody asked: the empty catalogue is fetched by the bootstrap sensor.
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                if count(warehouse_url, "SELECT count(*) FROM mre.tracks") == len(site.catalogue):
                    break
                time.sleep(2)
            assert count(warehouse_url, "SELECT count(*) FROM mre.tracks") == len(site.catalogue), (
                log.read_text()[-3000:]
            )
            assert (
                count(
                    dagster_storage_url,
                    "SELECT count(*) FROM runs WHERE pipeline_name = 'track_catalogue_job'",
                )
                >= 1
            )

            second = subprocess.run(
                [str(BIN / "mre-pipeline"), "dev", "--port", str(free_port())],
                env={**os.environ, **env},
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert second.returncode == 1
            assert (
                f"mre-pipeline dev is already running (pid {proc.pid}, Dagster UI http://127.0.0.1:{port})"
                in second.stderr
            )

            # On demand, through the running pipeline (found from its lock file).
            refresh = subprocess.run(
                [str(BIN / "mre-pipeline"), "catalogue", "refresh", "--wait", "240"],
                env={**os.environ, **env},
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert refresh.returncode == 0, refresh.stderr
            assert refresh.stdout.splitlines()[-1] == (
                f"catalogue refreshed: {len(site.catalogue)} active track(s), {len(site.catalogue)} in all"
            )

            code, elapsed, survivors = _stop_and_measure(proc, signal.SIGTERM, f"{name}={value}")
        finally:
            if proc.poll() is None:
                proc.kill()
    print(f"stopped {elapsed:.1f} s after SIGTERM")
    assert code == 0, log.read_text()[-3000:]
    assert survivors == [], describe(survivors)
    assert "SIGTERM received" in log.read_text()
    # Runs the stop interrupted ended as failures and gave their pool slots back.
    assert (
        count(dagster_storage_url, "SELECT count(*) FROM runs WHERE status IN ('STARTED', 'STARTING')") == 0
    )
    assert count(dagster_storage_url, "SELECT count(*) FROM concurrency_slots WHERE run_id IS NOT NULL") == 0


def test_killed_launcher_leaves_nothing_behind(tmp_path: Path) -> None:
    """No configuration (embedded Postgres), then kill -9 of the launcher: the watchdog cleans up."""
    name, value = _marker()
    port = free_port()
    state = tmp_path / "state"
    log = tmp_path / "dev.log"
    env = {
        "MRE_STATE_DIR": str(state),
        "MRE_DATABASE_URL": "",
        "MRE_DAGSTER_DATABASE_URL": "",
        "MRE_SCRAPE_ENABLED": "0",  # no LiveRC here: the bootstrap sensor must not try the real one
        name: value,
    }
    proc = _start_dev(env, port, log)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/server_info", START_TIMEOUT_S, proc, log)
        pidfile = state / "pgdata" / "postmaster.pid"
        assert pidfile.exists()
        assert len(session_processes(f"{name}={value}")) >= 5  # launcher, watchdog, Dagster, Postgres
        code, elapsed, survivors = _stop_and_measure(proc, signal.SIGKILL, f"{name}={value}")
    finally:
        if proc.poll() is None:
            proc.kill()
    print(f"everything gone {elapsed:.1f} s after kill -9 of the launcher")
    assert survivors == [], describe(survivors)
    assert not pidfile.exists(), "the embedded Postgres outlived its launcher"
    assert (state / "pgdata" / "PG_VERSION").exists(), "the data stays for the next run"


def test_dev_reuses_a_kept_server_and_leaves_it_running(tmp_path: Path) -> None:
    state = tmp_path / "state"
    base = {**os.environ, "MRE_STATE_DIR": str(state), "MRE_DATABASE_URL": "", "MRE_DAGSTER_DATABASE_URL": ""}
    started = subprocess.run(
        [str(BIN / "mre-pipeline"), "db", "start"], env=base, capture_output=True, text=True, timeout=180
    )
    assert started.returncode == 0, started.stderr
    kept = server.running_server(state / "pgdata")
    assert kept is not None
    name, value = _marker()
    port = free_port()
    log = tmp_path / "dev.log"
    proc = _start_dev({**base, "MRE_SCRAPE_ENABLED": "0", name: value}, port, log)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/server_info", START_TIMEOUT_S, proc, log)
        code, _, survivors = _stop_and_measure(proc, signal.SIGINT, f"{name}={value}")
        assert code == 0 and survivors == [], describe(survivors)
        assert server.running_server(state / "pgdata") == kept, "dev stopped a server it did not start"
    finally:
        if proc.poll() is None:
            proc.kill()
        stopped = subprocess.run(
            [str(BIN / "mre-pipeline"), "db", "stop"], env=base, capture_output=True, text=True, timeout=120
        )
    assert stopped.stdout.strip() == "embedded Postgres stopped"
    assert server.running_server(state / "pgdata") is None
