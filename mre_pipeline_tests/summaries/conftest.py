"""Fixtures for the dbt summaries: private migrated databases and a dbt build helper.

Each dataset gets its own database (not the shared session warehouse), so other test modules that
truncate ``mre.*`` can never change the data a summary test is asserting on.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from mre_pipeline.summaries.dbt_env import (
    PROJECT_DIR,
    dbt_build_args,
    dbt_env_from_url,
    dbt_executable,
    summary_build_env,
)
from mre_pipeline.summaries.manifest import ensure_manifest, models_version
from mre_pipeline.warehouse.scratch import scratch_database


@pytest.fixture(scope="module")
def summaries_db(pg_base_url: str) -> Iterator[str]:
    with scratch_database(pg_base_url, "mre_summ") as url:
        yield url


@pytest.fixture(scope="module")
def summaries_engine(summaries_db: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(summaries_db, poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


def run_dbt(url: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the dbt CLI against ``url`` with a private target path (safe next to other dbt runs);
    ``env`` adds variables (the batch of a build: see summary_build_env)."""
    ensure_manifest()
    with tempfile.TemporaryDirectory(prefix="dbt-test-") as work:
        return subprocess.run(
            [
                dbt_executable(),
                *args,
                "--project-dir",
                str(PROJECT_DIR),
                "--profiles-dir",
                str(PROJECT_DIR),
                "--target-path",
                str(Path(work) / "target"),
                "--log-path",
                work,
            ],
            cwd=PROJECT_DIR,
            env={
                **os.environ,
                **dbt_env_from_url(url),
                **summary_build_env(),
                **(env or {}),
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            },
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )


def dbt_build_ok(url: str, *args: str) -> str:
    """A full build (every event from scratch), which must pass."""
    completed = run_dbt(url, "build", *args)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-6000:]
    return output


def dbt_batch_build_ok(url: str, event_ids: list[int], rebuild_staging: bool = False) -> str:
    """The build the summaries sensor launches for ``event_ids``, which must pass."""
    completed = run_dbt(
        url,
        *dbt_build_args(event_ids, rebuild_staging),
        env=summary_build_env(event_ids, models_version()),
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-6000:]
    return output


def rows(engine: sa.Engine, sql: str, **params: object) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(sql), params)]
