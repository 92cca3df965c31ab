"""The URL -> dbt env translation and the manifest preparation that makes definitions load anywhere."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mre_pipeline.summaries import manifest
from mre_pipeline.summaries.dbt_env import (
    ENV_VARS,
    dbt_build_args,
    dbt_env_from_url,
    dbt_environment,
    dbt_executable,
    summary_build_env,
)
from mre_pipeline.summaries.run_results import failure_summary


def test_unix_socket_url() -> None:
    env = dbt_env_from_url("postgresql+psycopg2://postgres:@/mre_test_1?host=/work/main/.mre/pgtest")
    assert env == {
        "MRE_DBT_HOST": "/work/main/.mre/pgtest",
        "MRE_DBT_PORT": "5432",
        "MRE_DBT_USER": "postgres",
        "MRE_DBT_PASSWORD": "",
        "MRE_DBT_DBNAME": "mre_test_1",
    }


def test_tcp_url_with_password_and_sslmode() -> None:
    env = dbt_env_from_url("postgresql+psycopg2://etl:s%40cret@db.internal:6543/mre?sslmode=require")
    assert (env["MRE_DBT_HOST"], env["MRE_DBT_PORT"], env["MRE_DBT_USER"]) == ("db.internal", "6543", "etl")
    assert (env["MRE_DBT_PASSWORD"], env["MRE_DBT_DBNAME"], env["MRE_DBT_SSLMODE"]) == (
        "s@cret",
        "mre",
        "require",
    )


def test_rejects_non_postgres_urls() -> None:
    with pytest.raises(ValueError, match="Postgres"):
        dbt_env_from_url("sqlite:///x.db")


def test_environment_is_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MRE_DBT_HOST", "before")
    monkeypatch.delenv("MRE_DBT_DBNAME", raising=False)
    with dbt_environment("postgresql+psycopg2://u:p@h/db"):
        assert (os.environ["MRE_DBT_HOST"], os.environ["MRE_DBT_DBNAME"]) == ("h", "db")
    assert os.environ["MRE_DBT_HOST"] == "before" and "MRE_DBT_DBNAME" not in os.environ
    assert set(ENV_VARS) <= set(dbt_env_from_url("postgresql+psycopg2://u@h/db"))


def test_dbt_executable_is_the_venv_one() -> None:
    assert dbt_executable().startswith(os.path.dirname(sys.executable))


def test_manifest_is_current_and_matches_the_project() -> None:
    path = manifest.ensure_manifest()
    assert manifest.FINGERPRINT_PATH.read_text() == manifest.project_fingerprint()
    nodes = json.loads(path.read_text())["nodes"]
    assert "model.mre_summaries.driver_race_summary" in nodes
    assert nodes["model.mre_summaries.lap_progression"]["schema"] == "mre_summaries"


def test_every_summary_is_built_after_the_batch_it_records() -> None:
    """The watermark (summary_batch's read) must not be newer than what the summaries read: dbt runs
    independent models in any order, so only the DAG guarantees it."""
    parents = json.loads(manifest.ensure_manifest().read_text())["parent_map"]

    def ancestors(node: str) -> set[str]:
        found, todo = set(), list(parents.get(node, []))
        while todo:
            parent = todo.pop()
            if parent not in found:
                found.add(parent)
                todo.extend(parents.get(parent, []))
        return found

    for mart in ("driver_race_summary", "lap_progression", "driver_event_summary", "driver_track_history"):
        assert "model.mre_summaries.summary_batch" in ancestors(f"model.mre_summaries.{mart}"), mart


def test_parallel_reparse_leaves_one_valid_manifest() -> None:
    """Two processes forced to parse at once: both succeed, the manifest is whole, no temp dirs remain."""
    code = "from mre_pipeline.summaries.manifest import ensure_manifest; ensure_manifest(force=True)"
    procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(2)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    assert json.loads(manifest.MANIFEST_PATH.read_text())["metadata"]["project_name"] == "mre_summaries"
    assert not list(manifest.TARGET_DIR.glob("parse-*"))


def test_build_env_and_args_for_a_batch() -> None:
    assert summary_build_env([34, 12, 12], "abc") == {
        "MRE_SUMMARY_EVENT_IDS": "12,34",
        "MRE_SUMMARY_MODELS_VERSION": "abc",
    }
    assert summary_build_env() == {"MRE_SUMMARY_EVENT_IDS": "", "MRE_SUMMARY_MODELS_VERSION": ""}
    assert dbt_build_args([12], rebuild_staging=False) == ["build", "--exclude", "path:models/staging"]
    assert dbt_build_args([12], rebuild_staging=True) == ["build"]
    assert dbt_build_args([], rebuild_staging=False) == ["build"]  # a full build rebuilds everything


def test_batch_variables_are_set_for_the_invocation_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MRE_SUMMARY_EVENT_IDS", raising=False)
    with dbt_environment("postgresql+psycopg2://u:p@h/db", summary_build_env([5], "v1")):
        assert (os.environ["MRE_SUMMARY_EVENT_IDS"], os.environ["MRE_SUMMARY_MODELS_VERSION"]) == ("5", "v1")
    assert "MRE_SUMMARY_EVENT_IDS" not in os.environ


def test_models_version_follows_the_models_sql_not_their_docs(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(manifest.PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    before = manifest.models_version(project)
    (project / "models" / "marts" / "_marts.yml").write_text(
        (project / "models" / "marts" / "_marts.yml")
        .read_text()
        .replace("One row per", "Exactly one row per")
    )
    (project / "tests" / "assert_non_starters_have_null_stats.sql").write_text("select 1 where false")
    assert manifest.models_version(project) == before
    model = project / "models" / "marts" / "driver_event_summary.sql"
    model.write_text(model.read_text() + "\n-- changed\n")
    assert manifest.models_version(project) != before


def test_failure_summary_names_the_failing_nodes() -> None:
    results = {
        "results": [
            {"unique_id": "model.mre_summaries.driver_race_summary", "status": "success"},
            {
                "unique_id": "test.mre_summaries.assert_rollups_match_race_summary",
                "status": "fail",
                "failures": 2,
            },
            {
                "unique_id": "test.mre_summaries.unique_lap_progression_race_result_id.a1b2c3",
                "status": "fail",
                "failures": 5,
            },
            {
                "unique_id": "model.mre_summaries.lap_progression",
                "status": "error",
                "message": 'Database Error in model lap_progression\n  relation "x" does not exist',
            },
        ]
    }
    assert failure_summary(results) == (
        "dbt build failed: test assert_rollups_match_race_summary failed (2 rows); "
        "test unique_lap_progression_race_result_id failed (5 rows); "
        "model lap_progression: Database Error in model lap_progression"
    )
    assert failure_summary(None).startswith("dbt build failed before it ran any model")
