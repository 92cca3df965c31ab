"""The event asset's chart as materialization metadata; a chart that cannot be drawn never fails ingestion."""

from __future__ import annotations

import threading

import dagster as dg
import sqlalchemy as sa

EVENT_CHART_KEY = "event_chart"
# Not at once: when a burst starts five runs together, five engines starting (0.5 CPU-s each, on 2 cores)
# delayed every run's first request to LiveRC by a second. A run fetching at the politeness interval
# (one request a second, 6 or more per event) is still fetching when this fires; a faster run draws its
# chart before that and starts the engine itself.
WARM_UP_DELAY_S = 2.0


def warm_up_event_chart() -> None:
    """Start the chart renderer's JavaScript engine in the background (about 0.5 s of CPU) while the event
    is fetched, so the chart at the end costs only its own drawing. Never raises."""
    timer = threading.Timer(WARM_UP_DELAY_S, _warm_up)
    timer.name, timer.daemon = "event-chart-warm-up", True
    timer.start()


def _warm_up() -> None:
    try:
        from mre_pipeline.engineer.render import warm_up

        warm_up()
    except Exception:  # noqa: BLE001 - the chart itself reports any real problem, as a warning
        pass


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
