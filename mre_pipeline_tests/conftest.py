"""Shared fixtures: a real Postgres with migrations applied to a fresh database, and Dagster instances.

Postgres comes from ``MRE_TEST_DATABASE_URL`` when set (any database on that server: the fixtures create
their own), else from the embedded server in ``.mre/pgtest``. No test is skipped for lack of a database.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from mre_pipeline import settings
from mre_pipeline.warehouse import migrate, server

WAREHOUSE_TABLES = (
    "ingestion_requests",
    "event_entries",
    "laps",
    "race_results",
    "drivers",
    "races",
    "events",
    "tracks",
)


def _server_base_url() -> str:
    configured = os.environ.get("MRE_TEST_DATABASE_URL")
    if configured:
        return configured
    pg = server.start_embedded(settings.state_dir() / "pgtest")
    return server.embedded_url(pg, "postgres")


@pytest.fixture(scope="session")
def pg_base_url() -> str:
    return _server_base_url()


def _fresh_database_url(base_url: str, prefix: str) -> str:
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    server.ensure_database(url)
    return url


@pytest.fixture(scope="session")
def warehouse_url(pg_base_url: str) -> Iterator[str]:
    """A brand-new database migrated to head, dropped at the end of the session."""
    url = _fresh_database_url(pg_base_url, "mre_test")
    migrate.upgrade(url)
    yield url
    server.drop_database(url)


@pytest.fixture(scope="session")
def warehouse_engine(warehouse_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(warehouse_url, poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


@pytest.fixture
def clean_warehouse(warehouse_engine: sa.Engine) -> sa.Engine:
    """The session's warehouse, emptied before the test."""
    with warehouse_engine.begin() as conn:
        conn.exec_driver_sql(
            # Identities keep counting: request ids (and so Dagster run keys) stay unique in a session.
            "TRUNCATE " + ", ".join(f"mre.{t}" for t in WAREHOUSE_TABLES) + " CASCADE"
        )
    return warehouse_engine


@pytest.fixture
def empty_database_url(pg_base_url: str) -> Iterator[str]:
    """A database with nothing in it (for migration tests)."""
    url = _fresh_database_url(pg_base_url, "mre_empty")
    yield url
    server.drop_database(url)


@pytest.fixture(scope="session")
def dagster_storage_url(pg_base_url: str) -> Iterator[str]:
    """A fresh database for Dagster's instance storage (end-to-end tests)."""
    url = _fresh_database_url(pg_base_url, "dagster_test")
    yield url
    server.drop_database(url)


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
