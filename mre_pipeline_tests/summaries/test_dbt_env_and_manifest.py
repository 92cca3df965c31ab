"""The URL -> dbt env translation and the manifest preparation that makes definitions load anywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mre_pipeline.summaries import manifest
from mre_pipeline.summaries.dbt_env import ENV_VARS, dbt_env_from_url, dbt_environment, dbt_executable


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


def test_parallel_reparse_leaves_one_valid_manifest() -> None:
    """Two processes forced to parse at once: both succeed, the manifest is whole, no temp dirs remain."""
    code = "from mre_pipeline.summaries.manifest import ensure_manifest; ensure_manifest(force=True)"
    procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(2)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    assert json.loads(manifest.MANIFEST_PATH.read_text())["metadata"]["project_name"] == "mre_summaries"
    assert not list(manifest.TARGET_DIR.glob("parse-*"))
