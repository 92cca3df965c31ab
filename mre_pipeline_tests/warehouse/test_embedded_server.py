"""The embedded warehouse for analysts: `db start` keeps it up with no `dev` running, `db url` prints what
psql accepts, the roles' passwords are enforced, and a command that only borrowed the server stops it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mre_pipeline.warehouse import server
from mre_pipeline_tests.dagster_process import BIN

pytestmark = pytest.mark.e2e

PSQL = shutil.which("psql")


def mre(state: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {
        **os.environ,
        "MRE_STATE_DIR": str(state),
        "MRE_DATABASE_URL": "",
        "MRE_DAGSTER_DATABASE_URL": "",
        **env,
    }
    return subprocess.run(
        [str(BIN / "mre-pipeline"), *args], env=full_env, capture_output=True, text=True, timeout=300
    )


def psql(url: str, sql: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    assert PSQL is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if password is not None:
        env["PGPASSWORD"] = password
    return subprocess.run(
        [PSQL, url, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.skipif(PSQL is None, reason="psql is not installed (CI installs postgresql-client)")
def test_analysts_reach_a_kept_server_with_their_password_only(tmp_path: Path) -> None:
    state = tmp_path / "state"
    data_dir = state / "pgdata"
    try:
        started = mre(state, "db", "start")
        assert started.returncode == 0, started.stderr
        assert started.stdout.startswith("embedded Postgres started (pid ")
        upgraded = mre(state, "db", "upgrade", MRE_ANALYST_PASSWORD="analyst pw")
        assert upgraded.stdout.splitlines()[-1] == "password set for mre_analyst", upgraded.stderr

        analyst_url = mre(state, "db", "url", "--role", "mre_analyst").stdout.strip()
        assert (
            analyst_url == f"postgresql://mre_analyst@/mre?host={server.running_server(data_dir).socket_dir}"
        )
        ok = psql(analyst_url, "SELECT current_user, count(*) FROM mre.tracks", password="analyst pw")
        assert ok.returncode == 0, ok.stderr
        assert ok.stdout.strip() == "mre_analyst|0"
        wrong = psql(analyst_url, "SELECT 1", password="guess")
        assert wrong.returncode == 2
        assert 'password authentication failed for user "mre_analyst"' in wrong.stderr
        webapp_url = mre(state, "db", "url", "--role", "mre_webapp").stdout.strip()
        no_password_set = psql(webapp_url, "SELECT 1", password="anything")
        assert no_password_set.returncode == 2, "a role without a password cannot log in"
        read_only = psql(analyst_url, "DELETE FROM mre.tracks", password="analyst pw")
        assert "permission denied" in read_only.stderr

        own = psql(mre(state, "db", "url").stdout.strip(), "SELECT current_user")
        assert own.stdout.strip() == "postgres", "the project's own connection needs no password"

        status = mre(state, "db", "status")
        assert status.returncode == 0 and "kept running until `mre-pipeline db stop`" in status.stdout
    finally:
        stopped = mre(state, "db", "stop")
    assert stopped.stdout.strip() == "embedded Postgres stopped"
    assert server.running_server(data_dir) is None
    assert mre(state, "db", "status").returncode == 1


def test_a_command_that_borrowed_the_server_stops_it(tmp_path: Path) -> None:
    state = tmp_path / "state"
    assert mre(state, "db", "upgrade").returncode == 0
    assert mre(state, "request", "status").returncode == 0
    assert server.running_server(state / "pgdata") is None
    assert (state / "pgdata" / "PG_VERSION").exists()
