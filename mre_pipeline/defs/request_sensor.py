"""The request-queue sensor: turns rows of ``mre.ingestion_requests`` into partitioned runs.

Per tick: reconcile active requests with Dagster's run records (fill in run ids, settle rows whose run
ended without settling them), then read one bounded batch of pending rows (one indexed query), decide
each with :func:`plan_batch`, and return the partitions to add and the runs to launch. A tick never
calls LiveRC, and one bad row never stops the others.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
from dagster._core.storage.tags import RUN_KEY_TAG

from mre_pipeline import settings
from mre_pipeline.defs.partitions import event_partitions, track_partitions
from mre_pipeline.defs.resources import WarehouseResource
from mre_pipeline.ingestion.keys import event_id_or_none
from mre_pipeline.ingestion.request_planner import (
    ActiveWork,
    AlreadyDone,
    Attach,
    Launch,
    Reject,
    plan_batch,
)
from mre_pipeline.ingestion.request_rules import DISCOVER
from mre_pipeline.warehouse import requests as queue
from mre_pipeline.warehouse.catalogue import known_slugs

SOURCE = "liverc"
# A queued request whose run Dagster never created (daemon crash, duplicate run key) fails after this.
RUN_CREATION_TIMEOUT = timedelta(minutes=10)
FINISHED = {
    dg.DagsterRunStatus.SUCCESS,
    dg.DagsterRunStatus.FAILURE,
    dg.DagsterRunStatus.CANCELED,
}


def _asset_for(request_type: str) -> dg.AssetKey:
    return dg.AssetKey("track_events" if request_type == DISCOVER else "event_results")


def reconcile(instance: dg.DagsterInstance, conn, now: datetime) -> dict[str, int]:
    """Bring queued/running rows in line with Dagster: fill run ids, settle rows of finished runs.

    Requests attached to another request's work share its partition, so they get its run id and its
    outcome together with it.
    """
    counts = {"run_ids_filled": 0, "settled": 0}
    active = queue.active_requests(conn)
    unassigned = {a.request_id: a for a in active if a.dagster_run_id is None}
    if unassigned:
        keys = [f"request-{request_id}" for request_id in unassigned]
        for record in instance.get_run_records(dg.RunsFilter(tags={RUN_KEY_TAG: keys})):
            run = record.dagster_run
            primary = unassigned.get(int(run.tags[RUN_KEY_TAG].removeprefix("request-")))
            if primary is not None and primary.partition_key:
                counts["run_ids_filled"] += queue.assign_partition_run(
                    conn, primary.request_type, primary.partition_key, run.run_id
                )
        active = queue.active_requests(conn)
        for a in active:
            if a.dagster_run_id is None and a.queued_at and now - a.queued_at > RUN_CREATION_TIMEOUT:
                counts["settled"] += queue.settle_request(
                    conn,
                    a.request_id,
                    False,
                    f"Dagster never started a run for this request (run key request-{a.request_id}) "
                    f"within {int(RUN_CREATION_TIMEOUT.total_seconds() // 60)} minutes; submit it again",
                )
    work = {(a.request_type, a.partition_key, a.dagster_run_id) for a in active if a.dagster_run_id}
    if not work:
        return counts
    runs = {
        r.dagster_run.run_id: r.dagster_run
        for r in instance.get_run_records(dg.RunsFilter(run_ids=sorted({w[2] for w in work})))
    }
    for request_type, partition_key, run_id in sorted(work):
        run = runs.get(run_id)
        if run is None:
            ok, reason = False, f"Dagster run {run_id} no longer exists; submit the request again"
        elif run.status in FINISHED:
            ok = run.status == dg.DagsterRunStatus.SUCCESS
            verb = "was canceled" if run.status == dg.DagsterRunStatus.CANCELED else "failed"
            reason = (
                f"Dagster run {run_id} succeeded"
                if ok
                else f"Dagster run {run_id} {verb} before settling the request{_failure_message(instance, run_id)}"
            )
        else:
            continue
        counts["settled"] += queue.finish_partition_requests(
            conn, request_type, partition_key, run_id, ok, reason
        )
    return counts


def _failure_message(instance: dg.DagsterInstance, run_id: str) -> str:
    """The first step failure's message, so the request says why (bounded: one log query)."""
    try:
        records = instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.STEP_FAILURE, limit=1
        ).records
    except Exception:  # noqa: BLE001 - best effort: the reason is still given without it
        return ""
    for record in records:
        event = record.event_log_entry.dagster_event
        error = getattr(getattr(event, "event_specific_data", None), "error", None)
        while error is not None and getattr(error, "cause", None) is not None:
            error = error.cause  # the innermost cause is the user's error, not Dagster's wrapper
        if error is not None:
            return ": " + " ".join(error.message.split())[:300]
    return ""


_COUNT_NAMES = {Reject: "rejected", AlreadyDone: "already_done", Attach: "attached", Launch: "launched"}


def _apply(conn, action) -> dg.RunRequest | None:
    """Write one decision to the queue; return the run to launch, if any."""
    if isinstance(action, Reject):
        queue.reject(conn, action.request_id, action.reason)
        return None
    accepted = action.accepted
    if isinstance(action, AlreadyDone):
        queue.succeed_without_run(conn, action.request_id, action.detail, accepted.partition_key)
        return None
    if isinstance(action, Attach):
        queue.mark_queued(
            conn,
            action.request_id,
            accepted.partition_key,
            f"attached to request {action.to_request_id}, already queued or running for "
            f"{accepted.partition_key}",
            run_id=action.run_id,
        )
        return None
    queue.mark_queued(
        conn, action.request_id, accepted.partition_key, f"run requested (run key {action.run_key})"
    )
    tags = {
        "mre/request_id": str(action.request_id),
        "mre/request_type": accepted.request_type,
        "mre/track": accepted.track_slug,
    }
    if accepted.event_id:
        tags["mre/event_id"] = str(accepted.event_id)
    if action.row.requested_by:
        tags["mre/requested_by"] = action.row.requested_by[:200]
    return dg.RunRequest(
        run_key=action.run_key,
        partition_key=accepted.partition_key,
        asset_selection=[_asset_for(accepted.request_type)],
        tags=tags,
    )


def process_pending(conn, batch_size: int) -> tuple[list, list, dict]:
    """Decide a batch of pending rows; returns (run_requests, partition adds, counts)."""
    rows = queue.pending_batch(conn, batch_size)
    counts = {"pending": len(rows), "rejected": 0, "launched": 0, "attached": 0, "already_done": 0}
    if not rows:
        return [], [], counts
    slugs = {(r.track_slug or "").strip().lower() for r in rows}
    known = known_slugs(conn, SOURCE, sorted(slugs))
    active = {
        (a.request_type, a.partition_key): ActiveWork(a.request_id, a.dagster_run_id)
        for a in reversed(queue.active_requests(conn))
        if a.partition_key
    }
    event_ids = [i for i in (event_id_or_none(r.source_event_id) for r in rows) if i is not None]
    ingested = queue.ingested_event_ids(conn, SOURCE, event_ids)
    run_requests: list[dg.RunRequest] = []
    new_tracks: set[str] = set()
    new_events: set[str] = set()
    for action in plan_batch(rows, known, active, ingested):
        try:
            with conn.begin_nested():  # one bad row's failure rolls back only that row
                run_request = _apply(conn, action)
        except Exception as exc:  # noqa: BLE001 - never let one row kill the tick
            counts["errors"] = counts.get("errors", 0) + 1
            with conn.begin_nested():
                first_line = (str(exc).strip().splitlines() or [""])[0][:300]
                queue.reject(
                    conn,
                    action.request_id,
                    f"internal error while queueing ({type(exc).__name__}: {first_line})",
                )
            continue
        counts[_COUNT_NAMES[type(action)]] += 1
        if run_request is not None:
            run_requests.append(run_request)
            assert isinstance(action, Launch)
            (new_tracks if action.accepted.request_type == DISCOVER else new_events).add(
                action.accepted.partition_key
            )
    partition_requests = []
    if new_tracks:
        partition_requests.append(track_partitions.build_add_request(sorted(new_tracks)))
    if new_events:
        partition_requests.append(event_partitions.build_add_request(sorted(new_events)))
    return run_requests, partition_requests, counts


@dg.sensor(
    name="ingestion_request_sensor",
    minimum_interval_seconds=settings.request_sensor_interval_s(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    asset_selection=["track_events", "event_results"],
    description="Turns rows of mre.ingestion_requests into discovery and ingestion runs.",
)
def ingestion_request_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    engine = warehouse.get_engine()
    now = datetime.now(UTC)
    with engine.begin() as conn:
        reconciled = reconcile(context.instance, conn, now)
    with engine.begin() as conn:
        run_requests, partition_requests, counts = process_pending(conn, settings.request_batch_size())
    if any(counts.values()) or any(reconciled.values()):
        context.log.info(f"requests: {counts}; reconciled: {reconciled}")
    return dg.SensorResult(run_requests=run_requests, dynamic_partitions_requests=partition_requests)
