"""Apply the Alembic migrations programmatically (``mre-pipeline db upgrade`` and the test harness)."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from mre_pipeline.warehouse.engine import sqlalchemy_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Role passwords come from the environment only; unset means "leave the role's password alone".
ROLE_PASSWORD_ENV = {"mre_webapp": "MRE_WEBAPP_PASSWORD", "mre_analyst": "MRE_ANALYST_PASSWORD"}


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return cfg


def current_revision(url: str) -> str | None:
    engine = sa.create_engine(sqlalchemy_url(url), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            if not conn.execute(sa.text("SELECT to_regclass('mre.alembic_version')")).scalar():
                return None
            return conn.execute(sa.text("SELECT version_num FROM mre.alembic_version")).scalar()
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> list[str]:
    """Bring the database to ``revision`` (a no-op when it is already there) and apply the role passwords
    given in the environment; returns the roles whose password was set."""
    command.upgrade(alembic_config(url), revision)
    return apply_role_passwords(url)


def apply_role_passwords(url: str) -> list[str]:
    """Set role passwords from MRE_WEBAPP_PASSWORD / MRE_ANALYST_PASSWORD when given."""
    changed = []
    engine = sa.create_engine(sqlalchemy_url(url), poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            for role, var in ROLE_PASSWORD_ENV.items():
                password = os.environ.get(var)
                if password:
                    quoted = conn.execute(sa.text("SELECT quote_literal(:p)"), {"p": password}).scalar()
                    conn.execute(sa.text(f"ALTER ROLE {role} WITH LOGIN PASSWORD {quoted}"))
                    changed.append(role)
    finally:
        engine.dispose()
    return changed
