"""The release step (``python -m mre_pipeline.instance.release``) on empty databases, then again.

It is what a deployment runs before the new version's services start: the warehouse migrations, Dagster's
storage, the pool limits. Run here as a process with the distributed instance (deploy/dagster.yaml).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory
from dagster_postgres import PostgresEventLogStorage

from mre_pipeline import settings
from mre_pipeline.warehouse import migrate
from mre_pipeline.warehouse.engine import sqlalchemy_url
from mre_pipeline.warehouse.scratch import scratch_database
from mre_pipeline_tests.dagster_process import free_port


def _release(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mre_pipeline.instance.release"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_release_migrates_both_stores_and_sets_the_pools(pg_base_url: str, tmp_path: Path) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(settings.PROJECT_ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    with (
        scratch_database(pg_base_url, "mre_rel", migrated=False) as warehouse_url,
        scratch_database(pg_base_url, "dagster_rel", migrated=False) as dagster_url,
    ):
        env = {
            "DAGSTER_HOME": str(home),
            "MRE_DATABASE_URL": warehouse_url,
            "MRE_DAGSTER_DATABASE_URL": dagster_url,
            "MRE_TIMING_SOURCE_SLOTS": "3",
        }
        first = _release(env)
        assert first.returncode == 0, first.stderr
        assert "warehouse upgraded from empty to revision" in first.stdout
        assert f"Dagster storage current (the instance in {home})" in first.stdout
        assert "pool timing_sources: 3 slot(s)" in first.stdout and "pool dbt: 1 slot(s)" in first.stdout
        head = ScriptDirectory.from_config(migrate.alembic_config(warehouse_url)).get_current_head()
        assert migrate.current_revision(warehouse_url) == head
        events = PostgresEventLogStorage(sqlalchemy_url(dagster_url), should_autocreate_tables=False)
        limits = {p.name: p.limit for p in events.get_pool_limits()}
        assert limits == {"timing_sources": 3, "dbt": 1}

        events.set_concurrency_slots("dbt", 2)  # an operator's own choice survives the next release
        second = _release(env)
        assert second.returncode == 0, second.stderr
        assert "nothing to do" in second.stdout and "pool" not in second.stdout
        assert {p.name: p.limit for p in events.get_pool_limits()}["dbt"] == 2
        events.dispose()


def test_release_says_in_one_line_why_it_cannot_run(tmp_path: Path) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(settings.PROJECT_ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    closed = f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/mre"
    result = _release(
        {"DAGSTER_HOME": str(home), "MRE_DATABASE_URL": closed, "MRE_DAGSTER_DATABASE_URL": closed}
    )
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("mre-pipeline: error:")
