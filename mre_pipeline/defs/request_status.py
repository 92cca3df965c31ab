"""How assets report back to the request queue: running at start, succeeded/failed at the end."""

from __future__ import annotations

import sqlalchemy as sa

from mre_pipeline.connectors.errors import ConnectorError
from mre_pipeline.ingestion.event_ingest import EventIngestError
from mre_pipeline.ingestion.validation import EventValidationError
from mre_pipeline.warehouse import requests as queue
from mre_pipeline.warehouse.events import UnknownTrackError

# Errors whose message already says what went wrong in a user's terms.
EXPLAINED_ERRORS = (ConnectorError, EventIngestError, EventValidationError, UnknownTrackError)


def failure_reason(exc: BaseException, run_id: str) -> str:
    if isinstance(exc, EXPLAINED_ERRORS):
        return " ".join(str(exc).split())
    return f"internal error ({type(exc).__name__}: {exc}); see Dagster run {run_id}"


class RequestTracker:
    """Settles every request waiting on one partition of one asset."""

    def __init__(self, engine: sa.Engine, request_type: str, partition_key: str, run_id: str):
        self.engine = engine
        self.request_type = request_type
        self.partition_key = partition_key
        self.run_id = run_id

    def started(self) -> int:
        with self.engine.begin() as conn:
            return queue.start_partition_requests(conn, self.request_type, self.partition_key, self.run_id)

    def succeeded(self, detail: str, conn: sa.Connection | None = None) -> int:
        """Settle as succeeded, inside ``conn``'s transaction when given (atomic with the data)."""
        if conn is not None:
            return queue.finish_partition_requests(
                conn, self.request_type, self.partition_key, self.run_id, True, detail
            )
        with self.engine.begin() as own:
            return queue.finish_partition_requests(
                own, self.request_type, self.partition_key, self.run_id, True, detail
            )

    def failed(self, reason: str) -> int:
        with self.engine.begin() as conn:
            return queue.finish_partition_requests(
                conn, self.request_type, self.partition_key, self.run_id, False, reason
            )
