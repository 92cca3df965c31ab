"""A fresh deployment builds the summaries before anything is ingested: every model and test must pass."""

from __future__ import annotations

import sqlalchemy as sa

from mre_pipeline.warehouse.scratch import scratch_database
from mre_pipeline_tests.summaries.conftest import dbt_build_ok


def test_dbt_build_passes_on_an_empty_warehouse(pg_base_url: str) -> None:
    with scratch_database(pg_base_url, "mre_empty_summ") as url:
        output = dbt_build_ok(url)
        assert "ERROR=0" in output
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            assert (
                conn.exec_driver_sql("SELECT count(*) FROM mre_summaries.driver_race_summary").scalar() == 0
            )
        engine.dispose()
