"""`mre-pipeline dev` brings the UI up on Postgres storage, and Ctrl-C stops every process it started."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from mre_pipeline_tests.dagster_process import BIN, free_port, group_alive, running

pytestmark = pytest.mark.e2e


def test_dev_serves_ui_with_dagster_tables_in_postgres(
    warehouse_url: str, dagster_storage_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        "MRE_DATABASE_URL": warehouse_url,
        "MRE_DAGSTER_DATABASE_URL": dagster_storage_url,
        "MRE_STATE_DIR": str(tmp_path / "state"),
    }
    log = tmp_path / "dev.log"
    with running([str(BIN / "mre-pipeline"), "dev", "--port", str(port)], env, port, log) as proc:
        info = requests.get(f"http://127.0.0.1:{port}/server_info", timeout=5).json()
        assert "dagster_webserver_version" in info
        engine = sa.create_engine(dagster_storage_url, poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            tables = {
                r[0]
                for r in conn.exec_driver_sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            }
        engine.dispose()
        assert {"runs", "event_logs", "instigators", "jobs"} <= tables

        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        assert proc.wait(60) == 0 or proc.returncode in (-signal.SIGINT, 130)
        deadline = time.monotonic() + 15
        while group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not group_alive(proc.pid), "processes of the dev session survived Ctrl-C"
    assert "Dagster UI: http://127.0.0.1:" in log.read_text()


def test_dev_with_no_configuration_runs_and_stops_its_own_postgres(tmp_path: Path) -> None:
    """The README's run command: no URLs set, so an embedded Postgres starts, and Ctrl-C stops it too."""
    port = free_port()
    state = tmp_path / "state"
    env = {"MRE_STATE_DIR": str(state), "MRE_DATABASE_URL": "", "MRE_DAGSTER_DATABASE_URL": ""}
    log = tmp_path / "dev.log"
    with running([str(BIN / "mre-pipeline"), "dev", "--port", str(port)], env, port, log) as proc:
        pidfile = state / "pgdata" / "postmaster.pid"
        assert pidfile.exists()
        socket_dir = state / "pgdata"
        engine = sa.create_engine(
            f"postgresql+psycopg2://postgres:@/dagster?host={socket_dir}", poolclass=sa.pool.NullPool
        )
        with engine.connect() as conn:
            assert (
                conn.exec_driver_sql("SELECT count(*) FROM pg_tables WHERE tablename = 'runs'").scalar() == 1
            )
        engine.dispose()
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(60)
        deadline = time.monotonic() + 20
        while (group_alive(proc.pid) or pidfile.exists()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not group_alive(proc.pid)
        assert not pidfile.exists(), "the embedded Postgres outlived Ctrl-C"
    assert (state / "pgdata" / "PG_VERSION").exists(), "the data stays for the next run"
