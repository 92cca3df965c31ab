"""Shared fixtures: a real Postgres with migrations applied to a fresh database, and Dagster instances.

Postgres comes from ``MRE_TEST_DATABASE_URL`` when set (any database on that server: the fixtures create
their own), else from the embedded server in ``.mre/pgtest``. No test is skipped for lack of a database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from mre_pipeline import settings
from mre_pipeline.warehouse import server
from mre_pipeline.warehouse.scratch import scratch_database


def _server_base_url() -> str:
    configured = os.environ.get("MRE_TEST_DATABASE_URL")
    if configured:
        return configured
    pg = server.start_embedded(settings.state_dir() / "pgtest")
    return server.embedded_url(pg, "postgres")


@pytest.fixture(scope="session")
def pg_base_url() -> str:
    return _server_base_url()


@pytest.fixture(scope="session")
def warehouse_url(pg_base_url: str) -> Iterator[str]:
    """A brand-new database migrated to head, dropped at the end of the session."""
    with scratch_database(pg_base_url, "mre_test") as url:
        yield url


@pytest.fixture(scope="session")
def warehouse_engine(warehouse_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(warehouse_url, poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


@pytest.fixture
def clean_warehouse(warehouse_engine: sa.Engine) -> sa.Engine:
    """The session's warehouse, emptied before the test."""
    with warehouse_engine.begin() as conn:
        tables = [
            r[0]
            for r in conn.exec_driver_sql(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'mre' AND tablename <> 'alembic_version'"
            )
        ]
        conn.exec_driver_sql(
            # Identities keep counting: request ids (and so Dagster run keys) stay unique in a session.
            "TRUNCATE " + ", ".join(f"mre.{t}" for t in tables) + " CASCADE"
        )
        # Summaries an earlier test's service built (their events are gone now); the tables stay, so the
        # next service builds its events in batches, as after any deployment.
        summary_tables = [
            r[0]
            for r in conn.exec_driver_sql(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'mre_summaries'"
            )
        ]
        if summary_tables:
            conn.exec_driver_sql("TRUNCATE " + ", ".join(f"mre_summaries.{t}" for t in summary_tables))
    return warehouse_engine


@pytest.fixture
def empty_database_url(pg_base_url: str) -> Iterator[str]:
    """A database with nothing in it (for migration tests)."""
    with scratch_database(pg_base_url, "mre_empty", migrated=False) as url:
        yield url


@pytest.fixture(scope="session")
def dagster_storage_url(pg_base_url: str) -> Iterator[str]:
    """A fresh database for Dagster's instance storage (end-to-end tests)."""
    with scratch_database(pg_base_url, "dagster_test", migrated=False) as url:
        yield url


@pytest.fixture
def dagster_instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture(scope="session")
def liverc_pages() -> Path:
    """The captured LiveRC pages (third-party data, never copied into the repo)."""
    root = Path(os.environ.get("MRE_LIVERC_PAGES") or settings.PROJECT_ROOT.parent / "shared" / "liverc")
    if not (root / "ground_truth.json").exists():
        pytest.skip(f"captured LiveRC pages not found at {root} (set MRE_LIVERC_PAGES)")
    return root
