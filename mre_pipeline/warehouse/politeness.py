"""The politeness ledger in Postgres: a per-host pacer shared by every process and machine of a deployment.

Each turn takes a session advisory lock for the host (so one request at a time reaches a host, whoever sends
it), sleeps until ``min_interval_s`` after the end of the host's previous response (read from
``mre.host_politeness``, on the database's clock, so machines need not agree on the time), and records the
response's end when the turn is over. A process that dies mid-request closes its connection, and Postgres
releases its lock: nothing to clean up. Waiters wake the moment the lock is released, so a host's next
request follows the interval exactly, not a polling period later. Each site's robots.txt answer is kept in
``mre.host_robots`` too, so one fetch per ``robots_ttl_s`` serves every run instead of one fetch per run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from mre_pipeline.connectors.pacing import RobotsAnswer

LOCK_SQL = sa.text("SELECT pg_advisory_lock(hashtextextended('mre:host:' || :host, 0))")
UNLOCK_SQL = sa.text("SELECT pg_advisory_unlock(hashtextextended('mre:host:' || :host, 0))")
WAIT_SQL = sa.text(
    """
    SELECT greatest(0, extract(epoch FROM last_response_end + make_interval(secs => :interval)
                                          - clock_timestamp()))
    FROM mre.host_politeness WHERE host = :host
    """
)
DONE_SQL = sa.text(
    """
    INSERT INTO mre.host_politeness (host, last_response_end, requests) VALUES (:host, clock_timestamp(), 1)
    ON CONFLICT (host) DO UPDATE
    SET last_response_end = clock_timestamp(), requests = mre.host_politeness.requests + 1
    """
)


RECALL_ROBOTS_SQL = sa.text(
    """
    SELECT status, body FROM mre.host_robots
    WHERE site = :site AND fetched_at > clock_timestamp() - make_interval(secs => :max_age)
    """
)
REMEMBER_ROBOTS_SQL = sa.text(
    """
    INSERT INTO mre.host_robots (site, status, body, fetched_at) VALUES (:site, :status, :body, clock_timestamp())
    ON CONFLICT (site) DO UPDATE SET status = excluded.status, body = excluded.body, fetched_at = excluded.fetched_at
    """
)


class PostgresHostPacer:
    """A :class:`~mre_pipeline.connectors.pacing.HostPacer` whose ledger is the warehouse."""

    def __init__(self, engine: sa.Engine, sleep: Callable[[float], None] = time.sleep):
        self.engine = engine
        self.sleep = sleep

    @contextmanager
    def turn(self, host: str, min_interval_s: float) -> Iterator[float]:
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(LOCK_SQL, {"host": host})
            try:
                waited = float(
                    conn.execute(WAIT_SQL, {"host": host, "interval": min_interval_s}).scalar() or 0
                )
                if waited > 0:
                    self.sleep(waited)
                yield waited
            finally:
                conn.execute(DONE_SQL, {"host": host})
                conn.execute(UNLOCK_SQL, {"host": host})

    def recall_robots(self, site: str, max_age_s: float) -> RobotsAnswer | None:
        with self.engine.connect() as conn:
            row = conn.execute(RECALL_ROBOTS_SQL, {"site": site, "max_age": max_age_s}).first()
        return RobotsAnswer(row.status, row.body) if row else None

    def remember_robots(self, site: str, answer: RobotsAnswer) -> None:
        with self.engine.begin() as conn:
            conn.execute(REMEMBER_ROBOTS_SQL, {"site": site, "status": answer.status, "body": answer.body})


def host_ledger(conn: sa.Connection) -> dict[str, tuple[object, int]]:
    """Every host's last response end and request count (for operators and tests)."""
    rows = conn.execute(sa.text("SELECT host, last_response_end, requests FROM mre.host_politeness")).all()
    return {r.host: (r.last_response_end, r.requests) for r in rows}
