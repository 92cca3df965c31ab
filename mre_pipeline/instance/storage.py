"""Dagster's Postgres storage, keeping one connection open per storage and process instead of one per query.

``dagster_postgres`` opens a new Postgres connection for every read and write (``NullPool``), except in the
webserver. Each connection costs a Postgres backend process: creating one ``summaries_build`` run (125
planned-asset events) opened 367 connections and took 1.8 s on an idle machine, 5 s during a burst of
ingestions, all of it on a racer's wait for summaries; every run's events paid the same way. This class is
``DagsterPostgresStorage`` with the webserver's own remedy applied in every process (Dagster's
``optimize_for_webserver`` engines: one pooled connection, overflow closed after use), plus a ping before
each checkout, so a connection that a Postgres restart closed is replaced instead of failing a run. Its
configuration is the ``postgres`` storage's, unchanged.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from dagster._serdes import ConfigurableClassData
from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.utils import create_pg_engine, get_token_provider_from_config, pg_url_from_config

# Connections beyond the pooled one, for threads that write at the same moment (the daemon's); closed after use.
MAX_OVERFLOW = 10
# A pooled connection is replaced after an hour (Dagster's webserver default).
POOL_RECYCLE_S = 3600


class PooledPostgresStorage(DagsterPostgresStorage):
    """``storage: postgres`` with pooled connections (``dagster.yaml``: ``storage: custom:`` this class)."""

    def __init__(
        self,
        postgres_url: str,
        should_autocreate_tables: bool = True,
        inst_data: ConfigurableClassData | None = None,
        token_provider: Any = None,
    ):
        super().__init__(postgres_url, should_autocreate_tables, inst_data, token_provider)
        for storage in (self._run_storage, self._event_log_storage, self._schedule_storage):
            storage._engine = pooled_engine(postgres_url, token_provider)  # noqa: SLF001 - as optimize_for_webserver does

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: Any
    ) -> PooledPostgresStorage:
        return cls(
            inst_data=inst_data,
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
        )


def pooled_engine(postgres_url: str, token_provider: Any = None) -> sa.Engine:
    """The engine Dagster's ``optimize_for_webserver`` builds, without a statement timeout, with pre-ping."""
    return create_pg_engine(
        postgres_url,
        token_provider,
        isolation_level="AUTOCOMMIT",
        pool_size=1,
        max_overflow=MAX_OVERFLOW,
        pool_recycle=POOL_RECYCLE_S,
        pool_pre_ping=True,
    )
