"""The coach's database connection: the warehouse of the CLI's settings, as the read-only ``mre_analyst``."""

from __future__ import annotations

import os

import sqlalchemy as sa
from sqlalchemy.engine import make_url

ANALYST_ROLE = "mre_analyst"


def analyst_url(warehouse_url: str, password: str | None = None) -> sa.URL:
    """``warehouse_url`` with the user swapped for ``mre_analyst`` (password from MRE_ANALYST_PASSWORD)."""
    password = password if password is not None else os.environ.get("MRE_ANALYST_PASSWORD") or None
    return make_url(warehouse_url).set(username=ANALYST_ROLE, password=password)


def analyst_engine(warehouse_url: str, password: str | None = None) -> sa.Engine:
    """Pooled engine whose every transaction is read-only, on top of the role's SELECT-only grants."""
    return sa.create_engine(
        analyst_url(warehouse_url, password),
        pool_pre_ping=True,
        pool_size=2,
        max_overflow=2,
        connect_args={"options": "-c default_transaction_read_only=on -c statement_timeout=30000"},
    )
