"""Turn the pipeline's SQLAlchemy warehouse URL into the env vars ``dbt_summaries/profiles.yml`` reads.

One URL configures everything (MRE_DATABASE_URL, or the embedded server), so dbt never needs its own
settings; a Unix-socket directory in ``?host=`` becomes MRE_DBT_HOST, which dbt-postgres accepts.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from mre_pipeline import settings
from mre_pipeline.warehouse.engine import POSTGRES_SCHEMES

PROJECT_DIR = settings.PROJECT_ROOT / "dbt_summaries"
ENV_VARS = ("MRE_DBT_HOST", "MRE_DBT_PORT", "MRE_DBT_USER", "MRE_DBT_PASSWORD", "MRE_DBT_DBNAME")
# Read by dbt_summaries/macros/summary_batch.sql while executing (never while parsing, so changing them
# costs no re-parse).
EVENT_IDS_VAR = "MRE_SUMMARY_EVENT_IDS"
MODELS_VERSION_VAR = "MRE_SUMMARY_MODELS_VERSION"
BUILD_VARS = (EVENT_IDS_VAR, MODELS_VERSION_VAR)


def _query_value(query: Mapping[str, object], name: str) -> str | None:
    value = query.get(name)
    if isinstance(value, tuple | list):
        value = value[0] if value else None
    return str(value) if value not in (None, "") else None


def dbt_env_from_url(url: str) -> dict[str, str]:
    """The MRE_DBT_* variables for one Postgres URL in any spelling (``postgres://``, ``postgresql://``,
    with or without a driver)."""
    parsed = make_url(url)
    if parsed.drivername.split("+", 1)[0] not in POSTGRES_SCHEMES:
        raise ValueError(f"dbt_summaries needs a Postgres warehouse, got {parsed.drivername!r}")
    if not parsed.database:
        raise ValueError("the warehouse URL names no database")
    host = parsed.host or _query_value(parsed.query, "host") or "localhost"
    port = parsed.port or _query_value(parsed.query, "port") or 5432
    env = {
        "MRE_DBT_HOST": host,
        "MRE_DBT_PORT": str(port),
        "MRE_DBT_USER": parsed.username or os.environ.get("PGUSER") or "postgres",
        "MRE_DBT_PASSWORD": parsed.password or "",
        "MRE_DBT_DBNAME": parsed.database,
    }
    sslmode = _query_value(parsed.query, "sslmode")
    if sslmode:
        env["MRE_DBT_SSLMODE"] = sslmode
    return env


def warehouse_dbt_env(url: str | None = None) -> dict[str, str]:
    """Env vars for ``url``, else MRE_DATABASE_URL, else the embedded server (started if needed)."""
    if url is None:
        from mre_pipeline.warehouse.server import resolve_urls  # lazy: may start the embedded server

        url = resolve_urls().warehouse
    return dbt_env_from_url(url)


def summary_build_env(event_ids: Iterable[int] = (), models_version: str | None = None) -> dict[str, str]:
    """The batch of events a build refreshes ("" = all of them) and the models version it records."""
    return {
        EVENT_IDS_VAR: ",".join(str(int(e)) for e in sorted(set(event_ids))),
        MODELS_VERSION_VAR: models_version or "",
    }


def dbt_build_args(event_ids: Iterable[int] = (), rebuild_staging: bool = True) -> list[str]:
    """``dbt build``; a batch build that needs no new staging views leaves them (and their tests) alone:
    they are plain renamings, rebuilt only by full builds and the first build of a new models version."""
    if list(event_ids) and not rebuild_staging:
        return ["build", "--exclude", "path:models/staging"]
    return ["build"]


@contextmanager
def dbt_environment(
    url: str | None = None, build_env: Mapping[str, str] | None = None
) -> Iterator[dict[str, str]]:
    """Set the MRE_DBT_* variables (and ``build_env``, see summary_build_env) for the duration of a dbt
    invocation, then restore the old values.

    dagster-dbt passes ``os.environ`` to the dbt subprocess and has no per-call env parameter.
    """
    env = {**warehouse_dbt_env(url), **summary_build_env(), **(build_env or {})}
    saved = {name: os.environ.get(name) for name in (*ENV_VARS, "MRE_DBT_SSLMODE", *BUILD_VARS)}
    os.environ.update(env)
    try:
        yield env
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def dbt_executable() -> str:
    """The dbt next to this interpreter, so no PATH setup is needed (dagster-dbt requires an executable)."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"
