"""A fresh deployment builds the summaries before anything is ingested: every model and test must pass."""

from __future__ import annotations

import sqlalchemy as sa

from mre_pipeline.warehouse import server
from mre_pipeline_tests.summaries.conftest import dbt_build_ok, fresh_migrated_database


def test_dbt_build_passes_on_an_empty_warehouse(pg_base_url: str) -> None:
    url = fresh_migrated_database(pg_base_url, "mre_empty_summ")
    try:
        output = dbt_build_ok(url)
        assert "ERROR=0" in output
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            assert (
                conn.exec_driver_sql("SELECT count(*) FROM mre_summaries.driver_race_summary").scalar() == 0
            )
        engine.dispose()
    finally:
        server.drop_database(url)
