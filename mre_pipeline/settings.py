"""Every environment variable the pipeline reads, in one place, with its default.

Layers below Dagster receive values from here (or from Dagster config built from here); nothing else
reads ``os.environ`` for pipeline settings except the connector's own politeness knobs.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def env_flag(name: str, default: bool) -> bool:
    """Read a boolean switch; anything unrecognised falls back to the default."""
    raw = os.environ.get(name, "").strip().lower()
    if raw in TRUE_WORDS:
        return True
    if raw in FALSE_WORDS:
        return False
    return default


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def workspace_file() -> Path:
    """The Dagster workspace ``mre-pipeline dev`` serves (``MRE_WORKSPACE_FILE``, default the top-level
    ``workspace.yaml``); benchmarks add a location of their own this way."""
    return Path(os.environ.get("MRE_WORKSPACE_FILE") or PROJECT_ROOT / "workspace.yaml")


def state_dir() -> Path:
    """Git-ignored folder for local state (embedded Postgres data, Dagster scratch)."""
    return Path(os.environ.get("MRE_STATE_DIR") or PROJECT_ROOT / ".mre")


def dagster_home() -> Path:
    """The DAGSTER_HOME `mre-pipeline dev` uses: its dagster.yaml links to the project's."""
    return state_dir() / "dagster"


def warehouse_url() -> str | None:
    return os.environ.get("MRE_DATABASE_URL") or None


def dagster_url() -> str | None:
    return os.environ.get("MRE_DAGSTER_DATABASE_URL") or None


def request_sensor_interval_s() -> int:
    """Seconds between two looks at the request queue (each one indexed query): a racer waits this long at most."""
    return env_int("MRE_REQUEST_SENSOR_INTERVAL_S", 1)


def sensor_loop_s() -> float:
    """Seconds between two passes of the sensor daemon (mre_pipeline/instance/daemon.py; Dagster's own is 5)."""
    return env_float("MRE_SENSOR_LOOP_S", 1.0)


def request_batch_size() -> int:
    return env_int("MRE_REQUEST_BATCH_SIZE", 50)


def event_refresh_min_interval_s() -> float:
    """Minimum seconds between two fetches of one event that may still change (requests in between are
    answered from the warehouse)."""
    return env_float("MRE_EVENT_REFRESH_MIN_INTERVAL_S", 600.0)


def event_final_refresh() -> bool:
    """Whether the hourly final refresh of events stored while running starts switched on."""
    return env_flag("MRE_EVENT_FINAL_REFRESH", False)


def catalogue_cron() -> str:
    return os.environ.get("MRE_CATALOGUE_CRON", "17 4 * * *")
