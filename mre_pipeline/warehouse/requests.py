"""The request queue ``mre.ingestion_requests``: the SQL behind the sensor, the assets and the CLI.

Status machine: pending -> queued -> running -> succeeded | failed, or pending -> rejected. Every
transition is a guarded UPDATE (``WHERE status IN (...)``) so a late or duplicate writer cannot move a
finished request backwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

REQUEST_TYPES = ("discover_events", "ingest_event")
ACTIVE_STATUSES = ("queued", "running")
FINAL_STATUSES = ("succeeded", "failed", "rejected")
# status_detail is read by people; the table refuses more than 2000 characters.
DETAIL_LIMIT = 1000


def bounded(detail: str) -> str:
    """One line, at most DETAIL_LIMIT characters."""
    text = " ".join(detail.split())
    return text if len(text) <= DETAIL_LIMIT else text[: DETAIL_LIMIT - 1] + "…"


@dataclass(frozen=True)
class QueueRow:
    request_id: int
    source: str | None
    request_type: str | None
    track_slug: str | None
    source_event_id: str | None
    held_between_start: date | None
    held_between_end: date | None
    requested_by: str | None
    force: bool


def insert_request(
    conn: sa.Connection,
    request_type: str,
    track_slug: str | None,
    source_event_id: str | None = None,
    held_between_start: date | None = None,
    held_between_end: date | None = None,
    requested_by: str | None = None,
    force: bool = False,
    source: str = "liverc",
) -> int:
    """Insert a pending request exactly as the web app would (only the columns it may write)."""
    return int(
        conn.execute(
            sa.text(
                """
                INSERT INTO mre.ingestion_requests (source, request_type, track_slug, source_event_id,
                    held_between_start, held_between_end, requested_by, force)
                VALUES (:source, :t, :slug, :event, :start, :end, :by, :force) RETURNING request_id
                """
            ),
            {
                "source": source,
                "t": request_type,
                "slug": track_slug,
                "event": source_event_id,
                "start": held_between_start,
                "end": held_between_end,
                "by": requested_by,
                "force": force,
            },
        ).scalar_one()
    )


def pending_batch(
    conn: sa.Connection, limit: int, waiting_sources: tuple[str, ...] = (), wait_limit_s: float = 0
) -> list[QueueRow]:
    """Oldest pending requests (one scan of the partial pending index).

    Rows of ``waiting_sources`` (whose catalogue does not exist yet) stay pending and out of the batch,
    so they neither block other sources nor get rejected, until they have waited ``wait_limit_s``.
    """
    rows = conn.execute(
        sa.text(
            """
            SELECT request_id, source, request_type, track_slug, source_event_id, held_between_start,
                   held_between_end, requested_by, force
            FROM mre.ingestion_requests
            WHERE status = 'pending'
              AND (lower(btrim(source)) <> ALL(:waiting)
                   OR created_at < now() - make_interval(secs => :wait_limit_s))
            ORDER BY request_id LIMIT :limit
            """
        ),
        {"limit": limit, "waiting": list(waiting_sources), "wait_limit_s": wait_limit_s},
    ).all()
    return [QueueRow(*r) for r in rows]


def note_waiting(conn: sa.Connection, source: str, detail: str) -> int:
    """Say on every pending request of ``source`` why it waits (written once, not every tick)."""
    return conn.execute(
        sa.text(
            """
            UPDATE mre.ingestion_requests SET status_detail = :detail, updated_at = now()
            WHERE status = 'pending' AND lower(btrim(source)) = :source
              AND status_detail IS DISTINCT FROM :detail
            """
        ),
        {"source": source, "detail": bounded(detail)},
    ).rowcount


def reject(conn: sa.Connection, request_id: int, reason: str) -> bool:
    return _transition(conn, request_id, "rejected", ("pending",), detail=reason, finished=True)


def mark_queued(
    conn: sa.Connection, request_id: int, partition_key: str, detail: str, run_id: str | None = None
) -> bool:
    """Accepted: a run was requested (its id is filled in once Dagster creates it) or attached to."""
    return bool(
        conn.execute(
            sa.text(
                """
                UPDATE mre.ingestion_requests SET status = 'queued', dagster_run_id = :run_id,
                    partition_key = :pk, status_detail = :detail, queued_at = now(), updated_at = now()
                WHERE request_id = :id AND status = 'pending'
                """
            ),
            {"id": request_id, "run_id": run_id, "pk": partition_key, "detail": bounded(detail)},
        ).rowcount
    )


def succeed_without_run(conn: sa.Connection, request_id: int, detail: str, partition_key: str) -> bool:
    """Finish a request that needs no run (event already ingested and force not set)."""
    return bool(
        conn.execute(
            sa.text(
                """
                UPDATE mre.ingestion_requests SET status = 'succeeded', status_detail = :detail,
                    partition_key = :pk, finished_at = now(), updated_at = now()
                WHERE request_id = :id AND status = 'pending'
                """
            ),
            {"id": request_id, "detail": bounded(detail), "pk": partition_key},
        ).rowcount
    )


def start_partition_requests(conn: sa.Connection, request_type: str, partition_key: str, run_id: str) -> int:
    """A run for this partition began: every queued request for it (attached ones too) is now running."""
    return conn.execute(
        sa.text(
            """
            UPDATE mre.ingestion_requests SET status = 'running', dagster_run_id = :run_id, started_at = now(),
                updated_at = now(), status_detail = 'running in Dagster run ' || :run_id
            WHERE request_type = :t AND partition_key = :pk AND status IN ('queued', 'running')
            """
        ),
        {"t": request_type, "pk": partition_key, "run_id": run_id},
    ).rowcount


def finish_partition_requests(
    conn: sa.Connection, request_type: str, partition_key: str, run_id: str, succeeded: bool, detail: str
) -> int:
    """The run for this partition ended: settle every request waiting on it."""
    return conn.execute(
        sa.text(
            """
            UPDATE mre.ingestion_requests SET status = :status, status_detail = :detail,
                dagster_run_id = coalesce(dagster_run_id, :run_id), finished_at = now(), updated_at = now()
            WHERE request_type = :t AND partition_key = :pk AND status IN ('queued', 'running')
              AND (dagster_run_id IS NULL OR dagster_run_id = :run_id)
            """
        ),
        {
            "t": request_type,
            "pk": partition_key,
            "run_id": run_id,
            "status": "succeeded" if succeeded else "failed",
            "detail": bounded(detail),
        },
    ).rowcount


@dataclass(frozen=True)
class ActiveRequest:
    request_id: int
    request_type: str
    partition_key: str | None
    dagster_run_id: str | None
    status: str
    queued_at: datetime | None


def active_requests(conn: sa.Connection, limit: int = 500) -> list[ActiveRequest]:
    """Queued and running requests (partial index), for attaching and for reconciliation."""
    rows = conn.execute(
        sa.text(
            """
            SELECT request_id, request_type, partition_key, dagster_run_id, status, queued_at
            FROM mre.ingestion_requests WHERE status IN ('queued', 'running')
            ORDER BY request_id LIMIT :limit
            """
        ),
        {"limit": limit},
    ).all()
    return [ActiveRequest(*r) for r in rows]


def assign_partition_run(conn: sa.Connection, request_type: str, partition_key: str, run_id: str) -> int:
    """The run for a partition now exists: every waiting request for it (attached ones too) points to it."""
    return conn.execute(
        sa.text(
            """
            UPDATE mre.ingestion_requests SET dagster_run_id = :run_id, updated_at = now()
            WHERE request_type = :t AND partition_key = :pk AND status IN ('queued', 'running')
              AND dagster_run_id IS NULL
            """
        ),
        {"t": request_type, "pk": partition_key, "run_id": run_id},
    ).rowcount


def follow_retry(
    conn: sa.Connection, request_type: str, partition_key: str, failed_run_id: str, retry_run_id: str
) -> int:
    """Dagster retries a run whose worker died: the requests waiting on it now wait on the retry."""
    return conn.execute(
        sa.text(
            """
            UPDATE mre.ingestion_requests SET dagster_run_id = :retry, updated_at = now(),
                status_detail = 'interrupted (the service restarted or a worker died); retrying in Dagster run '
                                || :retry
            WHERE request_type = :t AND partition_key = :pk AND status IN ('queued', 'running')
              AND dagster_run_id = :failed
            """
        ),
        {"t": request_type, "pk": partition_key, "failed": failed_run_id, "retry": retry_run_id},
    ).rowcount


def settle_request(conn: sa.Connection, request_id: int, succeeded: bool, detail: str) -> bool:
    """Reconciliation: finish one active request whose run ended without settling it."""
    return _transition(
        conn,
        request_id,
        "succeeded" if succeeded else "failed",
        ("queued", "running"),
        detail=detail,
        finished=True,
    )


@dataclass(frozen=True)
class StoredEvent:
    """What the warehouse holds of an event at depth laps_full, as the request planner needs it."""

    last_ingested_at: datetime  # the last successful fetch
    results_state: str  # 'complete' | 'incomplete' (may still change)
    complete_after: datetime  # a fetch after this gives the final results
    refresh_launched_at: datetime | None  # the last fetch the request sensor launched (successful or not)
    checked_at: datetime  # the database's clock when this was read

    @property
    def complete(self) -> bool:
        return self.results_state == "complete"

    @property
    def last_fetch_started(self) -> datetime:
        """The later of the last successful fetch and the last launched one."""
        launched = self.refresh_launched_at
        return max(self.last_ingested_at, launched) if launched else self.last_ingested_at


def ingested_events(conn: sa.Connection, events: list[tuple[str, int]]) -> dict[tuple[str, int], StoredEvent]:
    """The (source, event id) pairs already at depth laps_full, with their state (one indexed query)."""
    if not events:
        return {}
    rows = conn.execute(
        sa.text(
            """
            SELECT e.source, e.source_event_id, e.last_ingested_at, e.results_state, e.complete_after,
                   e.refresh_launched_at, now() AS checked_at
            FROM mre.events e
            JOIN unnest(CAST(:sources AS text[]), CAST(:ids AS bigint[])) AS q(source, id)
              ON e.source = q.source AND e.source_event_id = q.id
            WHERE e.ingest_depth = 'laps_full'
            """
        ),
        {"sources": [s for s, _ in events], "ids": [i for _, i in events]},
    ).all()
    return {(r[0], int(r[1])): StoredEvent(*r[2:]) for r in rows}


def note_refresh_launched(conn: sa.Connection, source: str, source_event_id: int) -> bool:
    """A fetch of an already-ingested event was launched: the minimum interval between fetches counts from
    here, whether or not it succeeds."""
    return bool(
        conn.execute(
            sa.text(
                """
                UPDATE mre.events SET refresh_launched_at = now()
                WHERE source = :s AND source_event_id = :id AND ingest_depth = 'laps_full'
                """
            ),
            {"s": source, "id": source_event_id},
        ).rowcount
    )


FINAL_REFRESH_REQUESTER = "mre:final-refresh"


def request_final_refreshes(conn: sa.Connection, limit: int) -> list[int]:
    """Queue one ``ingest_event`` request for each event stored while it may still change whose end has
    passed since (oldest end first, up to ``limit``), once per event and end: the request sensor then
    fetches it like any other request. Returns the new request ids."""
    rows = conn.execute(
        sa.text(
            """
            WITH due AS (
                UPDATE mre.events e SET final_refresh_requested_at = now()
                FROM (SELECT event_id FROM mre.events
                      WHERE results_state = 'incomplete' AND complete_after <= now()
                        AND (final_refresh_requested_at IS NULL OR final_refresh_requested_at < complete_after)
                      ORDER BY complete_after LIMIT :limit) AS chosen
                WHERE e.event_id = chosen.event_id
                RETURNING e.source, e.source_event_id, e.track_id
            )
            INSERT INTO mre.ingestion_requests (source, request_type, track_slug, source_event_id, requested_by)
            SELECT due.source, 'ingest_event', CASE WHEN due.source = 'liverc' THEN t.slug END,
                   due.source_event_id::text, :by
            FROM due JOIN mre.tracks t USING (track_id)
            ORDER BY due.source_event_id
            RETURNING request_id
            """
        ),
        {"limit": limit, "by": FINAL_REFRESH_REQUESTER},
    ).all()
    return [int(r[0]) for r in rows]


def _transition(
    conn: sa.Connection,
    request_id: int,
    status: str,
    from_statuses: tuple[str, ...],
    detail: str,
    finished: bool,
) -> bool:
    return bool(
        conn.execute(
            sa.text(
                f"""
                UPDATE mre.ingestion_requests SET status = :status, status_detail = :detail,
                    updated_at = now(){", finished_at = now()" if finished else ""}
                WHERE request_id = :id AND status = ANY(:from_statuses)
                """
            ),
            {
                "id": request_id,
                "status": status,
                "detail": bounded(detail),
                "from_statuses": list(from_statuses),
            },
        ).rowcount
    )


def get_request(conn: sa.Connection, request_id: int) -> sa.Row | None:
    return conn.execute(
        sa.text("SELECT * FROM mre.ingestion_requests WHERE request_id = :id"), {"id": request_id}
    ).one_or_none()


def recent_requests(conn: sa.Connection, limit: int = 20) -> list[sa.Row]:
    return conn.execute(
        sa.text(
            """
            SELECT request_id, source, request_type, track_slug, source_event_id, status, status_detail,
                   dagster_run_id, created_at, finished_at
            FROM mre.ingestion_requests ORDER BY request_id DESC LIMIT :limit
            """
        ),
        {"limit": limit},
    ).all()
