"""SQLAlchemy engines, one per URL per process, the URL forms the project accepts and hands out, and the
COPY helper the bulk writers share."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlencode

import sqlalchemy as sa
from sqlalchemy.engine import make_url

# Every spelling of a Postgres URL a provider or tool hands out; psycopg2 is the driver installed.
POSTGRES_SCHEMES = {"postgres", "postgresql"}


def _postgres_url(url: str) -> sa.URL:
    parsed = make_url(url)
    backend = parsed.drivername.split("+", 1)[0]
    if backend not in POSTGRES_SCHEMES:
        raise ValueError(f"expected a Postgres URL (postgresql://...), got one for {backend!r}")
    return parsed


def sqlalchemy_url(url: str) -> str:
    """``postgres://``, ``postgresql://`` or ``postgresql+<driver>://`` as ``postgresql+psycopg2://``."""
    return _postgres_url(url).set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)


def libpq_url(url: str, hide_password: bool = False) -> str:
    """The same URL as psql and libpq accept it (``postgresql://``, no driver), socket paths readable."""
    parsed = _postgres_url(url).set(drivername="postgresql")
    base = parsed.set(query={}).render_as_string(hide_password=hide_password)
    if not parsed.query:
        return base
    return f"{base}?{urlencode(parsed.query, doseq=True, safe='/', quote_via=quote)}"


@lru_cache(maxsize=8)
def get_engine(url: str) -> sa.Engine:
    """A pooled engine; ``pool_pre_ping`` survives a restarted dev server."""
    return sa.create_engine(sqlalchemy_url(url), pool_pre_ping=True, pool_size=2, max_overflow=4)


def _csv_value(value: Any) -> Any:
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, float):
        return repr(value)
    return value


def copy_rows(conn: sa.Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """COPY rows into ``table`` on the connection's own transaction (the fastest bulk path measured)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    count = 0
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
        count += 1
    if count == 0:
        return 0
    buffer.seek(0)
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.copy_expert(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer
        )
    finally:
        cursor.close()
    return count
