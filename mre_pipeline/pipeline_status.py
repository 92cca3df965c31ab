"""What the CLI can learn about the running pipeline: the Dagster daemon's heartbeat (kept in Dagster's
storage) and the webserver of a running ``mre-pipeline dev``, through which it launches jobs."""

from __future__ import annotations

import time

from mre_pipeline.warehouse.engine import sqlalchemy_url

# The daemon writes a heartbeat every 30 s; three missed ones mean no daemon is running.
HEARTBEAT_FRESH_S = 90
TERMINAL_RUN_STATUSES = {"SUCCESS", "FAILURE", "CANCELED"}


def daemon_heartbeat_age_s(dagster_url: str) -> float | None:
    """Seconds since the newest Dagster daemon heartbeat in ``dagster_url``, or None if there is none."""
    from dagster_postgres import PostgresRunStorage

    try:
        storage = PostgresRunStorage(sqlalchemy_url(dagster_url), should_autocreate_tables=False)
        heartbeats = storage.get_daemon_heartbeats()
    except Exception:  # noqa: BLE001 - no storage or no tables yet: no daemon has ever run there
        return None
    if not heartbeats:
        return None
    return max(time.time() - hb.timestamp for hb in heartbeats.values())


def daemon_running(dagster_url: str) -> bool:
    age = daemon_heartbeat_age_s(dagster_url)
    return age is not None and age <= HEARTBEAT_FRESH_S


def launch_job(webserver_url: str, job_name: str) -> str:
    """Submit ``job_name`` through the webserver (so the run is queued like any launched from the UI)."""
    from dagster_graphql import DagsterGraphQLClient

    return _client(webserver_url, DagsterGraphQLClient).submit_job_execution(job_name)


def run_status(webserver_url: str, run_id: str) -> str:
    from dagster_graphql import DagsterGraphQLClient

    return _client(webserver_url, DagsterGraphQLClient).get_run_status(run_id).value


def _client(webserver_url: str, client_class):
    from urllib.parse import urlsplit

    parts = urlsplit(webserver_url)
    return client_class(parts.hostname or "127.0.0.1", port_number=parts.port or 80)


def free_slots_of_finished_runs(dagster_url: str) -> list[str]:
    """Give back pool slots still claimed by runs that have ended; returns those runs' ids.

    A run interrupted by a stop is marked failed, but its step can die before releasing its ``dbt`` or
    ``timing_sources`` slot, which would block every later run of that pool. Dagster's run monitoring does the same
    after ``free_slots_after_run_end_seconds``; the launcher does it at once when it starts and stops.
    """
    import dagster as dg
    import sqlalchemy as sa
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage

    url = sqlalchemy_url(dagster_url)
    events = PostgresEventLogStorage(url, should_autocreate_tables=False)
    try:
        claimed = events.get_concurrency_run_ids()
    except sa.exc.ProgrammingError:  # a fresh storage: Dagster creates its tables on first use
        return []
    if not claimed:
        return []
    finished = PostgresRunStorage(url, should_autocreate_tables=False).get_runs(
        dg.RunsFilter(
            run_ids=sorted(claimed),
            statuses=[dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED],
        )
    )
    for run in finished:
        events.free_concurrency_slots_for_run(run.run_id)
    return [run.run_id for run in finished]


def set_pool_limits(dagster_url: str) -> dict[str, int]:
    """The pipeline's pool limits in Dagster's storage (see mre_pipeline/instance/pools.py)."""
    import sqlalchemy as sa
    from dagster_postgres import PostgresEventLogStorage

    from mre_pipeline.instance.pools import ensure_pool_limits

    events = PostgresEventLogStorage(sqlalchemy_url(dagster_url), should_autocreate_tables=True)
    try:
        return ensure_pool_limits(events)
    except sa.exc.ProgrammingError:  # storage older than the pool tables: leave dagster.yaml's defaults
        return {}
