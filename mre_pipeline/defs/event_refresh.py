"""Optional, off by default: fetch once more, after they end, the events that were stored while running.

A racer who asked during an event left a copy that may lack the last races. Once an hour this sensor
queues one ordinary ``ingest_event`` request (``requested_by = 'mre:final-refresh'``) for each such event
whose end has passed (``mre.events.complete_after``), once per event; the request sensor fetches it with the
usual politeness and the stored copy ends ``complete`` without anyone asking. Its tick is one indexed
statement and never calls a timing source. On with ``MRE_EVENT_FINAL_REFRESH=1`` (or from the UI).
"""

from __future__ import annotations

import dagster as dg

from mre_pipeline import settings
from mre_pipeline.defs.resources import WarehouseResource
from mre_pipeline.warehouse import requests as queue

# Events queued per tick: the backlog drains an hour at a time, however many events ended at once.
FINAL_REFRESH_BATCH = 100


@dg.sensor(
    name="event_final_refresh_sensor",
    minimum_interval_seconds=3600,
    default_status=(
        dg.DefaultSensorStatus.RUNNING if settings.event_final_refresh() else dg.DefaultSensorStatus.STOPPED
    ),
    description="Hourly, off by default (MRE_EVENT_FINAL_REFRESH): requests one more fetch of each event that "
    "was ingested while it was still running, once it has ended, so the stored copy ends complete.",
)
def event_final_refresh_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    with warehouse.get_engine().begin() as conn:
        request_ids = queue.request_final_refreshes(conn, FINAL_REFRESH_BATCH)
    if not request_ids:
        return dg.SkipReason("no event stored while running has ended since")
    context.log.info(f"queued final refreshes: requests {request_ids[0]}..{request_ids[-1]}")
    return dg.SkipReason(f"queued {len(request_ids)} final refresh request(s) for the request sensor")
