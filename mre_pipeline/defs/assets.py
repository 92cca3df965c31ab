"""The ingestion assets: LiveRC's scheduled catalogue and on-demand discovery, and on-demand event ingestion
for every source (LiveRC, Everlaps).

Each is a thin wrapper: resolve the partition, call ingestion/, report metadata, settle requests. Every step
that calls a timing source runs in the pool ``timing_sources``; the per-host politeness ledger in the
warehouse keeps every host's interval however many of them run at once.
"""

import dagster as dg

from mre_pipeline.connectors.everlaps.resource import EverlapsResource
from mre_pipeline.connectors.liverc.resource import LiveRCResource
from mre_pipeline.defs.connectors import event_source
from mre_pipeline.defs.event_chart import event_chart_metadata
from mre_pipeline.defs.partitions import event_partitions, track_partitions
from mre_pipeline.defs.request_status import RequestTracker, settling
from mre_pipeline.defs.resources import WarehouseResource
from mre_pipeline.ingestion.catalogue import refresh_catalogue
from mre_pipeline.ingestion.discovery import discover_track_events
from mre_pipeline.ingestion.event_ingest import (
    CHECK_LAP_COUNTS,
    CHECK_LAPS_WELL_FORMED,
    ingest_event,
)
from mre_pipeline.ingestion.keys import split_event_partition_key, split_track_partition_key
from mre_pipeline.ingestion.reports import StepReport
from mre_pipeline.ingestion.request_rules import DISCOVER, INGEST
from mre_pipeline.instance.pools import TIMING_SOURCES_POOL
from mre_pipeline.warehouse.politeness import PostgresHostPacer

GROUP = "liverc"
EVENTS_GROUP = "events"


def _metadata(report: StepReport) -> dict[str, dg.MetadataValue | object]:
    meta: dict[str, object] = {}
    for key, value in report.counts.items():
        meta[key] = dg.MetadataValue.json(value) if isinstance(value, dict) else value
    fetch = report.fetch
    meta["requests_made"] = fetch.get("requests", 0)
    meta["retries"] = fetch.get("retries", 0)
    meta["politeness_wait_seconds"] = fetch.get("wait_seconds", 0.0)
    meta["working_seconds"] = round(
        max(float(fetch.get("elapsed_seconds", 0.0)) - float(fetch.get("wait_seconds", 0.0)), 0.0), 3
    )
    meta["fetch_stats"] = dg.MetadataValue.json(fetch)
    if report.warnings:
        meta["warnings"] = dg.MetadataValue.md("\n".join(f"- {w}" for w in report.warnings))
    if report.summary_markdown:
        meta["summary"] = dg.MetadataValue.md(report.summary_markdown)
    return meta


@dg.asset(
    group_name=GROUP,
    pool=TIMING_SOURCES_POOL,
    kinds={"python", "postgres"},
    description="Every LiveRC track (mre.tracks), upserted by slug; vanished tracks are marked inactive.",
)
def track_catalogue(liverc: LiveRCResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    engine = warehouse.get_engine()
    report = refresh_catalogue(liverc.get_source(PostgresHostPacer(engine)), engine)
    return dg.MaterializeResult(metadata=_metadata(report))


@dg.asset(
    group_name=GROUP,
    pool=TIMING_SOURCES_POOL,
    partitions_def=track_partitions,
    deps=[track_catalogue],
    kinds={"python", "postgres"},
    description="One track's events (mre.events, depth none): metadata only, fetched on request.",
)
def track_events(
    context: dg.AssetExecutionContext, liverc: LiveRCResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    _, slug = split_track_partition_key(context.partition_key)
    engine = warehouse.get_engine()
    with settling(RequestTracker(engine, DISCOVER, context.partition_key, context.run_id)) as tracker:
        report = discover_track_events(liverc.get_source(PostgresHostPacer(engine)), engine, slug)
        tracker.succeeded(report.detail)
    return dg.MaterializeResult(metadata=_metadata(report))


@dg.asset(
    group_name=EVENTS_GROUP,
    pool=TIMING_SOURCES_POOL,
    partitions_def=event_partitions,
    # No parent->child mapping exists between two dynamic partition sets: depend on all of them and
    # keep the track<->event link in the warehouse (design notes §3).
    deps=[dg.AssetDep("track_events", partition_mapping=dg.AllPartitionMapping())],
    kinds={"python", "postgres"},
    check_specs=[
        dg.AssetCheckSpec(
            CHECK_LAP_COUNTS,
            asset="event_results",
            blocking=True,
            description="Every result's lap count equals its stored laps (checked before commit).",
        ),
        dg.AssetCheckSpec(
            CHECK_LAPS_WELL_FORMED,
            asset="event_results",
            blocking=True,
            description="Every result's laps are numbered 1..n and their positions lie within the race's field "
            "(checked before commit, on the event just written).",
        ),
    ],
    description="One event of any source completely (races, drivers, results, laps, entries; an Everlaps "
    "event's venue as its track), written in one transaction. Partition keys name the source.",
)
def event_results(
    context: dg.AssetExecutionContext,
    liverc: LiveRCResource,
    everlaps: EverlapsResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    event = split_event_partition_key(context.partition_key)
    connectors = {"liverc": liverc, "everlaps": everlaps}  # source name -> resource
    engine = warehouse.get_engine()
    tracker = RequestTracker(engine, INGEST, context.partition_key, context.run_id)

    def forget_partition() -> None:
        """Nothing exists to materialize: leave no failed partition behind to paint the asset red."""
        context.instance.delete_dynamic_partition(event_partitions.name, context.partition_key)

    with settling(tracker, on_not_found=forget_partition):
        report = ingest_event(
            event_source(event.source, connectors, PostgresHostPacer(engine)),
            engine,
            event,
            on_commit=lambda conn, outcome: tracker.succeeded(outcome, conn),
        )
    metadata = _metadata(report)
    metadata.update(event_chart_metadata(context, engine, event.event_id))
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[
            dg.AssetCheckResult(check_name=CHECK_LAP_COUNTS, passed=True),
            dg.AssetCheckResult(check_name=CHECK_LAPS_WELL_FORMED, passed=True),
        ],
    )
