"""Alembic environment: migrations run against the URL the caller puts in the config, schema ``mre``."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

config = context.config


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        # The version table lives in schema mre, so the schema must exist before Alembic looks for it.
        connection.execute(sa.text("CREATE SCHEMA IF NOT EXISTS mre"))
        connection.commit()
        context.configure(
            connection=connection,
            version_table_schema="mre",
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
