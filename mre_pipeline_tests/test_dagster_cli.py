"""Dagster's own commands on this project, given only the two database URLs as providers hand them out
(``postgresql://`` and ``postgres://``, no driver): ``mre-pipeline db upgrade``, ``dagster asset materialize``
from the checkout without DAGSTER_HOME, ``dagster-webserver`` + ``dagster-daemon run`` with DAGSTER_HOME,
and dbt, against a loopback LiveRC."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster_graphql import DagsterGraphQLClient

from mre_pipeline import settings
from mre_pipeline.fake_liverc import FakeLiveRCServer
from mre_pipeline.fake_liverc.generator import generate_site
from mre_pipeline.pipeline_status import daemon_heartbeat_age_s
from mre_pipeline.warehouse.engine import libpq_url
from mre_pipeline.warehouse.scratch import scratch_database
from mre_pipeline_tests.dagster_process import BIN, START_TIMEOUT_S, count, free_port, running, stop_group

pytestmark = pytest.mark.e2e


@pytest.fixture
def provider_urls(pg_base_url: str) -> Iterator[dict[str, str]]:
    """A fresh warehouse and Dagster storage, spelled as a hosting provider would."""
    with (
        scratch_database(pg_base_url, "mre_cli", migrated=False) as warehouse,
        scratch_database(pg_base_url, "dagster_cli", migrated=False) as dagster,
    ):
        yield {
            "MRE_DATABASE_URL": libpq_url(warehouse),
            "MRE_DAGSTER_DATABASE_URL": libpq_url(dagster).replace("postgresql://", "postgres://", 1),
        }


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, **extra, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    for name in ("DAGSTER_HOME", "MRE_DAGSTER_ARTIFACTS_DIR", "MRE_DAGSTER_COMPUTE_LOGS_DIR"):
        env.pop(name, None)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        args, cwd=settings.PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    return result


def test_dagster_cli_webserver_and_daemon_with_plain_urls(
    provider_urls: dict[str, str], tmp_path: Path
) -> None:
    site = generate_site(seed=9, tracks=4, events_per_track=1)
    with FakeLiveRCServer(site.fake_site()) as liverc:
        env = _env({**provider_urls, **liverc.env(), "MRE_LIVERC_MIN_INTERVAL_S": "0.05"})
        warehouse = provider_urls["MRE_DATABASE_URL"]

        upgraded = _run([str(BIN / "mre-pipeline"), "db", "upgrade"], env)
        assert upgraded.stdout.startswith("warehouse upgraded from empty to revision")

        # The tester's command, from the checkout, no DAGSTER_HOME: the top-level dagster.yaml needs
        # nothing but MRE_DAGSTER_DATABASE_URL.
        _run(
            [
                str(BIN / "dagster"),
                "asset",
                "materialize",
                "-m",
                "mre_pipeline.definitions",
                "--select",
                "track_catalogue",
            ],
            env,
        )
        assert count(warehouse, "SELECT count(*) FROM mre.tracks WHERE is_active") == len(site.catalogue)

        dbt = _run([str(BIN / "mre-pipeline"), "dbt", "debug"], env)
        assert "All checks passed!" in dbt.stdout

        # The services an admin runs, on an instance folder holding (a link to) dagster.yaml.
        home = tmp_path / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").symlink_to(settings.PROJECT_ROOT / "dagster.yaml")
        service_env = {**env, "DAGSTER_HOME": str(home)}
        port = free_port()
        workspace = str(settings.PROJECT_ROOT / "workspace.yaml")
        daemon_log = tmp_path / "daemon.log"
        with daemon_log.open("wb") as out:
            daemon = subprocess.Popen(
                [str(BIN / "dagster-daemon"), "run", "-w", workspace],
                cwd=settings.PROJECT_ROOT,
                env=service_env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            with running(
                [str(BIN / "dagster-webserver"), "-w", workspace, "-h", "127.0.0.1", "-p", str(port)],
                {
                    "DAGSTER_HOME": str(home),
                    **provider_urls,
                    **liverc.env(),
                    "MRE_LIVERC_MIN_INTERVAL_S": "0.05",
                },
                port,
                tmp_path / "webserver.log",
                timeout_s=START_TIMEOUT_S,
            ):
                client = DagsterGraphQLClient("127.0.0.1", port_number=port)
                run_id = client.submit_job_execution("track_catalogue_job")
                status = _wait_for_run(client, run_id, timeout_s=300)
                assert status == dg.DagsterRunStatus.SUCCESS, daemon_log.read_text()[-4000:]
                age = daemon_heartbeat_age_s(provider_urls["MRE_DAGSTER_DATABASE_URL"])
                assert age is not None and age < 120
        finally:
            stop_group(daemon)
    assert (home / "storage").is_dir(), "artifacts and compute logs default to folders in DAGSTER_HOME"


def _wait_for_run(client: DagsterGraphQLClient, run_id: str, timeout_s: float) -> dg.DagsterRunStatus:
    deadline = time.monotonic() + timeout_s
    status = client.get_run_status(run_id)
    while (
        status not in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE)
        and time.monotonic() < deadline
    ):
        time.sleep(2)
        status = client.get_run_status(run_id)
    return status
