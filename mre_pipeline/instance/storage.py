"""Dagster's Postgres storage, keeping one connection open per storage and process instead of one per query.

``dagster_postgres`` opens a new Postgres connection for every read and write (``NullPool``), except in the
webserver. Each connection costs a Postgres backend process: creating one ``summaries_build`` run (125
planned-asset events) opened 367 connections and took 1.8 s on an idle machine, 5 s during a burst of
ingestions, all of it on a racer's wait for summaries; every run's events paid the same way. This class is
``DagsterPostgresStorage`` with the webserver's own remedy applied in every process (Dagster's
``optimize_for_webserver`` engine: pooled connections, overflow closed after use), plus a ping before
each checkout, so a connection that a Postgres restart closed is replaced instead of failing a run. Its
configuration is the ``postgres`` storage's, unchanged.

An instance's three storages share one pool, and disposing the instance closes its connections: code
servers build a short-lived instance for every sensor tick, and pools left to the garbage collector piled
up connections (8 -> 21 in 75 s of an idle ``mre-pipeline dev``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from dagster._core.storage.base_storage import DagsterStorage
from dagster._serdes import ConfigurableClassData
from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.run_storage import PostgresRunStorage
from dagster_postgres.schedule_storage import PostgresScheduleStorage
from dagster_postgres.utils import create_pg_engine, get_token_provider_from_config, pg_url_from_config

# Connections kept open per instance, and more for threads that write at the same moment (closed after use).
POOL_SIZE = 2
MAX_OVERFLOW = 10
# A pooled connection is replaced after an hour (Dagster's webserver default).
POOL_RECYCLE_S = 3600


class _OnTheInstancePool:
    """A dagster_postgres storage on its instance's pooled engine; disposing it closes the pool's connections
    (``DagsterInstance.dispose`` disposes the run and event log storages, not the schedule storage)."""

    _engine: sa.Engine

    def __init__(
        self, postgres_url: str, engine: sa.Engine, should_autocreate_tables: bool, token_provider: Any
    ):
        super().__init__(postgres_url, should_autocreate_tables, token_provider=token_provider)  # type: ignore[call-arg]
        self._engine = engine

    def dispose(self) -> None:
        super().dispose()  # type: ignore[misc]
        self._engine.dispose()


class PooledRunStorage(_OnTheInstancePool, PostgresRunStorage):
    pass


class PooledEventLogStorage(_OnTheInstancePool, PostgresEventLogStorage):
    pass


class PooledScheduleStorage(_OnTheInstancePool, PostgresScheduleStorage):
    pass


class PooledPostgresStorage(DagsterPostgresStorage):
    """``storage: postgres`` with pooled connections (``dagster.yaml``: ``storage: custom:`` this class)."""

    def __init__(
        self,
        postgres_url: str,
        should_autocreate_tables: bool = True,
        inst_data: ConfigurableClassData | None = None,
        token_provider: Any = None,
    ):
        # DagsterPostgresStorage.__init__, with the three storages on one pooled engine.
        self.postgres_url = postgres_url
        self.should_autocreate_tables = should_autocreate_tables
        self._inst_data = inst_data
        engine = pooled_engine(postgres_url, token_provider)
        shared = (postgres_url, engine, should_autocreate_tables, token_provider)
        self._run_storage = PooledRunStorage(*shared)
        self._event_log_storage = PooledEventLogStorage(*shared)
        self._schedule_storage = PooledScheduleStorage(*shared)
        DagsterStorage.__init__(self)

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
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
        pool_recycle=POOL_RECYCLE_S,
        pool_pre_ping=True,
    )
