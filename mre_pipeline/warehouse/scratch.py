"""Throwaway databases on the same server (tests and benchmarks): created fresh, migrated, dropped."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url

from mre_pipeline.warehouse import migrate, server


def new_database_url(base_url: str, prefix: str) -> str:
    """A URL for a new, empty database named ``{prefix}_{pid}_{random}`` on ``base_url``'s server."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    server.ensure_database(url)
    return url


@contextmanager
def scratch_database(base_url: str, prefix: str, migrated: bool = True) -> Iterator[str]:
    """A fresh database (migrated to head unless ``migrated=False``), dropped on exit."""
    url = new_database_url(base_url, prefix)
    try:
        if migrated:
            migrate.upgrade(url)
        yield url
    finally:
        server.drop_database(url)
