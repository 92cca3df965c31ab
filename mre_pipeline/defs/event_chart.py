"""The event asset's chart as materialization metadata; a chart that cannot be drawn never fails ingestion."""

from __future__ import annotations

import dagster as dg
import sqlalchemy as sa

EVENT_CHART_KEY = "event_chart"
# Drawn after the commit, so the racer's request has already succeeded. The renderer's engine starts with the
# first chart (about 0.5 s): it holds the GIL while it starts, so starting it while the event is fetched
# froze the run's other threads, and a run holding LiveRC's turn kept LiveRC idle meanwhile.


def event_chart_metadata(
    context: dg.AssetExecutionContext, engine: sa.Engine, source_event_id: int, source: str = "liverc"
) -> dict[str, dg.MetadataValue]:
    """``event_chart`` (markdown with the PNG inline) and its render time, or nothing plus a warning."""
    try:
        from mre_pipeline.engineer.event_chart import draw_event_chart

        chart = draw_event_chart(engine, source, source_event_id)
    except Exception as exc:  # noqa: BLE001 - the data are committed; a chart problem is only a warning
        context.log.warning(f"event chart not drawn for event {source_event_id}: {exc}")
        return {}
    return {
        EVENT_CHART_KEY: dg.MetadataValue.md(chart.markdown),
        "event_chart_seconds": dg.MetadataValue.float(chart.seconds),
    }
