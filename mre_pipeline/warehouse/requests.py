"""The request queue ``mre.ingestion_requests``: the SQL behind the sensor, the assets and the CLI.

Status machine: pending -> queued -> running -> succeeded | failed, or pending -> rejected. Every
transition is a guarded UPDATE (``WHERE status IN (...)``) so a late or duplicate writer cannot move a
finished request backwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

REQUEST_TYPES = ("discover_events", "ingest_event")
ACTIVE_STATUSES = ("queued", "running")
FINAL_STATUSES = ("succeeded", "failed", "rejected")


@dataclass(frozen=True)
class QueueRow:
    request_id: int
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
) -> int:
    """Insert a pending request exactly as the web app would."""
    return int(
        conn.execute(
            sa.text(
                """
                INSERT INTO mre.ingestion_requests (request_type, track_slug, source_event_id,
                    held_between_start, held_between_end, requested_by, force)
                VALUES (:t, :slug, :event, :start, :end, :by, :force) RETURNING request_id
                """
            ),
            {
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


def pending_batch(conn: sa.Connection, limit: int) -> list[QueueRow]:
    """Oldest pending requests (one index scan on the partial pending index)."""
    rows = conn.execute(
        sa.text(
            """
            SELECT request_id, request_type, track_slug, source_event_id, held_between_start,
                   held_between_end, requested_by, force
            FROM mre.ingestion_requests WHERE status = 'pending' ORDER BY request_id LIMIT :limit
            """
        ),
        {"limit": limit},
    ).all()
    return [QueueRow(*r) for r in rows]


def reject(conn: sa.Connection, request_id: int, reason: str) -> bool:
    return _transition(conn, request_id, "rejected", ("pending",), detail=reason, finished=True)


def mark_queued(conn: sa.Connection, request_id: int, run_id: str, partition_key: str, detail: str) -> bool:
    return bool(
        conn.execute(
            sa.text(
                """
                UPDATE mre.ingestion_requests SET status = 'queued', dagster_run_id = :run_id,
                    partition_key = :pk, status_detail = :detail, queued_at = now(), updated_at = now()
                WHERE request_id = :id AND status = 'pending'
                """
            ),
            {"id": request_id, "run_id": run_id, "pk": partition_key, "detail": detail},
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
            {"id": request_id, "detail": detail, "pk": partition_key},
        ).rowcount
    )


def mark_run_started(conn: sa.Connection, run_id: str) -> int:
    """The run began: every request attached to it is now running."""
    return conn.execute(
        sa.text(
            """
            UPDATE mre.ingestion_requests SET status = 'running', started_at = now(), updated_at = now(),
                status_detail = 'ingesting'
            WHERE dagster_run_id = :run_id AND status IN ('pending', 'queued')
            """
        ),
        {"run_id": run_id},
    ).rowcount


def finish_run(conn: sa.Connection, run_id: str, succeeded: bool, detail: str) -> int:
    """The run ended: settle every request attached to it."""
    return conn.execute(
        sa.text(
            """
            UPDATE mre.ingestion_requests SET status = :status, status_detail = :detail,
                finished_at = now(), updated_at = now()
            WHERE dagster_run_id = :run_id AND status IN ('pending', 'queued', 'running')
            """
        ),
        {"run_id": run_id, "status": "succeeded" if succeeded else "failed", "detail": detail},
    ).rowcount


def active_run_for_partition(conn: sa.Connection, request_type: str, partition_key: str) -> str | None:
    """The run id of a queued or running request for the same partition, if any."""
    return conn.execute(
        sa.text(
            """
            SELECT dagster_run_id FROM mre.ingestion_requests
            WHERE status IN ('queued', 'running') AND request_type = :t AND partition_key = :pk
              AND dagster_run_id IS NOT NULL
            ORDER BY request_id LIMIT 1
            """
        ),
        {"t": request_type, "pk": partition_key},
    ).scalar()


def active_runs(conn: sa.Connection, limit: int = 500) -> list[tuple[int, str]]:
    """(request_id, run_id) of queued/running requests, for reconciliation with Dagster's run status."""
    rows = conn.execute(
        sa.text(
            """
            SELECT request_id, dagster_run_id FROM mre.ingestion_requests
            WHERE status IN ('queued', 'running') AND dagster_run_id IS NOT NULL
            ORDER BY request_id LIMIT :limit
            """
        ),
        {"limit": limit},
    ).all()
    return [(int(r[0]), str(r[1])) for r in rows]


def fail_request(conn: sa.Connection, request_id: int, reason: str) -> bool:
    return _transition(
        conn, request_id, "failed", ("pending", "queued", "running"), detail=reason, finished=True
    )


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
            {"id": request_id, "status": status, "detail": detail, "from_statuses": list(from_statuses)},
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
            SELECT request_id, request_type, track_slug, source_event_id, status, status_detail,
                   dagster_run_id, created_at, finished_at
            FROM mre.ingestion_requests ORDER BY request_id DESC LIMIT :limit
            """
        ),
        {"limit": limit},
    ).all()
