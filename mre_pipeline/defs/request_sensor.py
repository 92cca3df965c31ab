"""The request-queue sensor: turns rows of ``mre.ingestion_requests`` into partitioned runs.

Per tick: reconcile active requests with Dagster's run records (fill in run ids, follow Dagster's automatic
retry of a run whose worker died, settle rows whose run ended without settling them), then read one bounded
batch of pending rows (one indexed query), what the warehouse holds of the events they name (one indexed
query: depth, complete or may still change, last fetch), decide each with :func:`plan_batch`, and return the
partitions to add and the runs to launch. A tick never calls a timing source, and one bad row never stops
the others.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import sqlalchemy as sa
from dagster._core.storage.tags import RUN_KEY_TAG

from mre_pipeline import settings
from mre_pipeline.defs.partitions import event_partitions, track_partitions
from mre_pipeline.defs.request_status import Finished, Retried, run_outcome
from mre_pipeline.defs.resources import WarehouseResource
from mre_pipeline.ingestion.keys import event_id_or_none, normalise_slug
from mre_pipeline.ingestion.request_planner import (
    ActiveWork,
    AlreadyDone,
    Attach,
    Launch,
    Reject,
    plan_batch,
)
from mre_pipeline.ingestion.request_rules import DISCOVER, CatalogueView
from mre_pipeline.ingestion.sources import SOURCES
from mre_pipeline.warehouse import requests as queue
from mre_pipeline.warehouse.catalogue import has_active_tracks, known_slugs

# A queued request whose run Dagster never created (daemon crash, lost run request) fails after this.
RUN_CREATION_TIMEOUT = timedelta(minutes=10)
# Requests for a source whose catalogue was never fetched wait this long for it, then are rejected.
CATALOGUE_WAIT_S = 30 * 60


def _asset_for(request_type: str) -> dg.AssetKey:
    return dg.AssetKey("track_events" if request_type == DISCOVER else "event_results")


# -- reconciliation --------------------------------------------------------------------------------------
def reconcile(instance: dg.DagsterInstance, conn: sa.Connection, now: datetime) -> dict[str, int]:
    """Bring queued/running rows in line with Dagster.

    Requests attached to another request's work share its partition, so they get its run id, its retry and
    its outcome together with it.
    """
    counts = {"run_ids_filled": 0, "retries_followed": 0, "settled": 0}
    active = queue.active_requests(conn)
    if any(a.dagster_run_id is None for a in active):
        counts["run_ids_filled"] = _fill_run_ids(instance, conn, active)
        active = queue.active_requests(conn)
        counts["settled"] += _fail_never_created(conn, active, now)
    work = sorted({(a.request_type, a.partition_key, a.dagster_run_id) for a in active if a.dagster_run_id})
    if not work:
        return counts
    runs = {
        r.dagster_run.run_id: r.dagster_run
        for r in instance.get_run_records(dg.RunsFilter(run_ids=sorted({w[2] for w in work})))
    }
    for request_type, partition_key, run_id in work:
        outcome = run_outcome(instance, runs.get(run_id), run_id)
        if isinstance(outcome, Retried):
            counts["retries_followed"] += queue.follow_retry(
                conn, request_type, partition_key, run_id, outcome.retry_run_id
            )
        elif isinstance(outcome, Finished):
            counts["settled"] += queue.finish_partition_requests(
                conn, request_type, partition_key, run_id, outcome.succeeded, outcome.reason
            )
    return counts


def _fill_run_ids(instance: dg.DagsterInstance, conn: sa.Connection, active: list) -> int:
    """Point requests whose run Dagster has now created (found by run key) at that run."""
    unassigned = {a.request_id: a for a in active if a.dagster_run_id is None}
    keys = [f"request-{request_id}" for request_id in unassigned]
    filled = 0
    for record in instance.get_run_records(dg.RunsFilter(tags={RUN_KEY_TAG: keys})):
        run = record.dagster_run
        primary = unassigned.get(int(run.tags[RUN_KEY_TAG].removeprefix("request-")))
        if primary is not None and primary.partition_key:
            filled += queue.assign_partition_run(
                conn, primary.request_type, primary.partition_key, run.run_id
            )
    return filled


def _fail_never_created(conn: sa.Connection, active: list, now: datetime) -> int:
    minutes = int(RUN_CREATION_TIMEOUT.total_seconds() // 60)
    settled = 0
    for a in active:
        if a.dagster_run_id is None and a.queued_at and now - a.queued_at > RUN_CREATION_TIMEOUT:
            settled += queue.settle_request(
                conn,
                a.request_id,
                False,
                f"the pipeline did not start work for this request within {minutes} minutes; submit it again",
            )
    return settled


# -- pending requests ------------------------------------------------------------------------------------
_COUNT_NAMES = {Reject: "rejected", AlreadyDone: "already_done", Attach: "attached", Launch: "launched"}


def _apply(conn: sa.Connection, action) -> dg.RunRequest | None:
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
            f"attached to request {action.to_request_id}, already queued or running for {accepted.partition_key}",
            run_id=action.run_id,
        )
        return None
    queue.mark_queued(conn, action.request_id, accepted.partition_key, action.detail)
    if action.refresh and accepted.event is not None:  # the refresh interval counts from this launch
        queue.note_refresh_launched(conn, accepted.source, accepted.event.event_id)
    return dg.RunRequest(
        run_key=action.run_key,
        partition_key=accepted.partition_key,
        asset_selection=[_asset_for(accepted.request_type)],
        tags=_run_tags(action),
    )


def _run_tags(action: Launch) -> dict[str, str]:
    accepted = action.accepted
    tags = {
        "mre/request_id": str(action.request_id),
        "mre/request_type": accepted.request_type,
        "mre/source": accepted.source,
    }
    if accepted.track_slug:
        tags["mre/track"] = accepted.track_slug
    if accepted.event_id:
        tags["mre/event_id"] = str(accepted.event_id)
    return tags


def _live_work(instance: dg.DagsterInstance, conn: sa.Connection) -> dict[tuple[str, str], ActiveWork]:
    """Active requests a new request may attach to: never one whose run already finished."""
    active = [a for a in queue.active_requests(conn) if a.partition_key]
    run_ids = sorted({a.dagster_run_id for a in active if a.dagster_run_id})
    finished = set()
    if run_ids:
        finished = {
            r.dagster_run.run_id
            for r in instance.get_run_records(dg.RunsFilter(run_ids=run_ids))
            if r.dagster_run.is_finished
        }
    return {
        (a.request_type, a.partition_key): ActiveWork(a.request_id, a.dagster_run_id)
        for a in reversed(active)
        if a.dagster_run_id not in finished
    }


def _catalogue_view(conn: sa.Connection, rows: list[queue.QueueRow], ready: bool) -> CatalogueView:
    slugs = set()
    for row in rows:
        try:
            slugs.add(normalise_slug(row.track_slug))
        except ValueError:
            continue
    return CatalogueView(known_slugs=known_slugs(conn, "liverc", sorted(slugs)), ready=ready)


def _event_keys(rows: list[queue.QueueRow]) -> list[tuple[str, int]]:
    """(source, event id) of every row that names a plausible event."""
    keys = []
    for row in rows:
        source = (row.source or "").strip().lower()
        event_id = event_id_or_none(row.source_event_id)
        if source in SOURCES and event_id is not None:
            keys.append((source, event_id))
    return keys


def process_pending(
    instance: dg.DagsterInstance, conn: sa.Connection, batch_size: int
) -> tuple[list[dg.RunRequest], list, dict[str, int]]:
    """Decide a batch of pending rows; returns (run_requests, partition adds, counts)."""
    catalogue_ready = has_active_tracks(conn, "liverc")
    waiting = () if catalogue_ready else ("liverc",)
    if waiting:
        queue.note_waiting(
            conn,
            "liverc",
            "waiting for the LiveRC track catalogue, which is being fetched for the first time",
        )
    rows = queue.pending_batch(conn, batch_size, waiting, CATALOGUE_WAIT_S)
    counts = {"pending": len(rows), "rejected": 0, "launched": 0, "attached": 0, "already_done": 0}
    if not rows:
        return [], [], counts
    ingested = queue.ingested_events(conn, _event_keys(rows))
    actions = plan_batch(
        rows,
        _catalogue_view(conn, rows, catalogue_ready),
        _live_work(instance, conn),
        ingested,
        timedelta(seconds=settings.event_refresh_min_interval_s()),
    )
    run_requests: list[dg.RunRequest] = []
    new_partitions: dict[str, set[str]] = {DISCOVER: set(), "ingest_event": set()}
    for action in actions:
        try:
            with conn.begin_nested():  # one bad row's failure rolls back only that row
                run_request = _apply(conn, action)
        except Exception:  # noqa: BLE001 - never let one row kill the tick
            counts["errors"] = counts.get("errors", 0) + 1
            with conn.begin_nested():
                queue.reject(
                    conn,
                    action.request_id,
                    "this request could not be queued because of an internal error; submit it again",
                )
            continue
        counts[_COUNT_NAMES[type(action)]] += 1
        if run_request is not None:
            run_requests.append(run_request)
            new_partitions[action.accepted.request_type].add(action.accepted.partition_key)
    partition_requests = []
    if new_partitions[DISCOVER]:
        partition_requests.append(track_partitions.build_add_request(sorted(new_partitions[DISCOVER])))
    if new_partitions["ingest_event"]:
        partition_requests.append(event_partitions.build_add_request(sorted(new_partitions["ingest_event"])))
    return run_requests, partition_requests, counts


@dg.sensor(
    name="ingestion_request_sensor",
    minimum_interval_seconds=settings.request_sensor_interval_s(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    asset_selection=["track_events", "event_results"],
    description="Turns rows of mre.ingestion_requests into discovery and ingestion runs, and settles requests "
    "whose runs ended without doing so.",
)
def ingestion_request_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    engine = warehouse.get_engine()
    now = datetime.now(UTC)
    with engine.begin() as conn:
        reconciled = reconcile(context.instance, conn, now)
    with engine.begin() as conn:
        run_requests, partition_requests, counts = process_pending(
            context.instance, conn, settings.request_batch_size()
        )
    if any(counts.values()) or any(reconciled.values()):
        context.log.info(f"requests: {counts}; reconciled: {reconciled}")
    return dg.SensorResult(run_requests=run_requests, dynamic_partitions_requests=partition_requests)
