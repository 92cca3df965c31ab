"""How requests learn their outcome: assets settle them as they run, the sensor settles what runs left behind.

Every reason is written for the racer who asked: one sentence per cause, no Python class names.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import dagster as dg
import sqlalchemy as sa
from dagster._core.events import RunFailureReason
from dagster._core.storage.tags import (
    AUTO_RETRY_RUN_ID_TAG,
    RETRY_NUMBER_TAG,
    RUN_FAILURE_REASON_TAG,
    WILL_RETRY_TAG,
)

from mre_pipeline.connectors.errors import ConnectorError
from mre_pipeline.ingestion.event_ingest import EventIngestError, EventNotFoundError
from mre_pipeline.ingestion.validation import EventValidationError
from mre_pipeline.warehouse import requests as queue
from mre_pipeline.warehouse.events import UnknownTrackError

# Errors whose message already says what went wrong in a user's terms.
EXPLAINED_ERRORS = (ConnectorError, EventIngestError, EventValidationError, UnknownTrackError)
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
INTERRUPTED = "the service restarted or a worker process stopped"
WAREHOUSE_DOWN = "the warehouse database was unavailable, so nothing was written; try again later"
# A lost warehouse connection (a database restart, a failover) is retried inside the run, like this.
WAREHOUSE_RETRIES = 3
WAREHOUSE_RETRY_WAIT_S = 10
# How long a failed run without Dagster's retry decision is taken to be still deciding.
RETRY_DECISION_WAIT_S = 60


def failure_reason(exc: BaseException, run_id: str) -> str:
    if isinstance(exc, EXPLAINED_ERRORS):
        return " ".join(str(exc).split())
    return f"an internal error stopped the work; an operator can see the details in Dagster run {run_id}"


@dataclass(frozen=True)
class StillRunning:
    """The run (or Dagster's retry of it) has not finished."""


@dataclass(frozen=True)
class Retried:
    retry_run_id: str


@dataclass(frozen=True)
class Finished:
    succeeded: bool
    reason: str


RunOutcome = StillRunning | Retried | Finished


def run_outcome(instance: dg.DagsterInstance, run: dg.DagsterRun | None, run_id: str) -> RunOutcome:
    """What a request waiting on ``run_id`` should become, from Dagster's record of the run."""
    if run is None:
        return Finished(
            False, f"the pipeline lost this request's work (Dagster run {run_id} is gone); submit it again"
        )
    if run.status not in FINISHED:
        return StillRunning()
    if run.status == dg.DagsterRunStatus.SUCCESS:
        return Finished(True, f"succeeded in Dagster run {run_id}")
    if run.status == dg.DagsterRunStatus.CANCELED:
        return Finished(
            False, f"an operator canceled the work (Dagster run {run_id}); submit it again if needed"
        )
    if run.tags.get(WILL_RETRY_TAG) == "true":
        retry = run.tags.get(AUTO_RETRY_RUN_ID_TAG)
        return Retried(retry) if retry else StillRunning()
    if _retry_decision_pending(instance, run):
        return StillRunning()
    return Finished(False, _failure_text(instance, run))


def _retry_decision_pending(instance: dg.DagsterInstance, run: dg.DagsterRun) -> bool:
    """Dagster records a run's failure first and its retry decision (``dagster/will_retry``) a moment later.

    Read in between, a run that will be retried looked finished, and its request ended ``failed`` while the
    retry went on to succeed. The decision is waited for while retries are on, for a bounded time (the
    retry daemon also records it for runs that failed without one).
    """
    if WILL_RETRY_TAG in run.tags or run.status != dg.DagsterRunStatus.FAILURE:
        return False
    if not instance.run_retries_enabled:
        return False
    record = instance.get_run_record_by_id(run.run_id)
    ended_at = record.end_time if record is not None else None
    return ended_at is None or time.time() - ended_at < RETRY_DECISION_WAIT_S


def _failure_text(instance: dg.DagsterInstance, run: dg.DagsterRun) -> str:
    if run.tags.get(RUN_FAILURE_REASON_TAG) == RunFailureReason.STEP_FAILURE.value:
        message = _step_failure_message(instance, run.run_id)
        if message:
            return message
    attempts = int(run.tags.get(RETRY_NUMBER_TAG, "0") or 0) + 1
    times = "twice" if attempts == 2 else f"{attempts} times" if attempts > 2 else ""
    if times:
        return f"the ingestion was interrupted {times} ({INTERRUPTED}); try again later"
    return f"the ingestion was interrupted ({INTERRUPTED}); try again later"


def _step_failure_message(instance: dg.DagsterInstance, run_id: str) -> str | None:
    """The user-facing message of the run's first step failure (bounded: one log query)."""
    try:
        records = instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.STEP_FAILURE, limit=1
        ).records
    except Exception:  # noqa: BLE001 - best effort: a generic reason is still given without it
        return None
    for record in records:
        event = record.event_log_entry.dagster_event
        data = getattr(event, "event_specific_data", None)
        user_failure = getattr(data, "user_failure_data", None)
        if user_failure is not None and user_failure.description:
            return " ".join(user_failure.description.split())  # raised as dg.Failure: already worded
        error = getattr(data, "error", None)
        while error is not None and getattr(error, "cause", None) is not None:
            error = error.cause
        if error is not None and error.cls_name and "ChildProcessCrash" in error.cls_name:
            return f"the ingestion was interrupted ({INTERRUPTED}); try again later"
        if error is not None and error.cls_name == "OperationalError":
            return WAREHOUSE_DOWN
    return f"an internal error stopped the work; an operator can see the details in Dagster run {run_id}"


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


@contextmanager
def settling(
    tracker: RequestTracker, on_not_found: Callable[[], None] | None = None
) -> Iterator[RequestTracker]:
    """Run an asset's work for its requests: running at the start; on an error, the requests fail with a
    reason and the step fails with the same words. A lost warehouse connection is not the request's fault:
    the step is retried (Dagster's RetryRequested) and the requests keep waiting."""
    try:
        tracker.started()
        yield tracker
    except (dg.Failure, dg.RetryRequested):
        raise
    except sa.exc.OperationalError as exc:
        raise dg.RetryRequested(
            max_retries=WAREHOUSE_RETRIES, seconds_to_wait=WAREHOUSE_RETRY_WAIT_S
        ) from exc
    except Exception as exc:
        reason = failure_reason(exc, tracker.run_id)
        tracker.failed(reason)
        if on_not_found is not None and isinstance(exc, EventNotFoundError):
            on_not_found()
        raise dg.Failure(description=reason) from exc
