"""The two captured LiveRC races in a private warehouse with the marts built, shared read-only by the
engineer tests (report, charts, export) and the coach tests."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from mre_pipeline.warehouse import migrate
from mre_pipeline.warehouse.scratch import scratch_database
from mre_pipeline_tests.summaries.captured import load_captured_event
from mre_pipeline_tests.summaries.conftest import dbt_build_ok

FELIX = 346997
ARI = 298958
RACE = 6304829
EVENT = 486677


@pytest.fixture
def analyst_password(captured_marts_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The warehouse enforces role passwords: give mre_analyst one and export it as an operator would."""
    password = secrets.token_urlsafe(12)
    monkeypatch.setenv("MRE_ANALYST_PASSWORD", password)
    migrate.apply_role_passwords(captured_marts_url)
    return password


@pytest.fixture(scope="session")
def captured_marts_url(pg_base_url: str, liverc_pages: Path) -> Iterator[str]:
    """Event 486677 (races 6304829 and 6304822) ingested and summarised. Tests must not write to it."""
    with scratch_database(pg_base_url, "mre_eng") as url:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            load_captured_event(engine, liverc_pages)
        finally:
            engine.dispose()
        dbt_build_ok(url)
        yield url


@pytest.fixture(scope="session")
def captured_marts(captured_marts_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(captured_marts_url, poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()
