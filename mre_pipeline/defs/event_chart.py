"""The event asset's chart as materialization metadata; a chart that cannot be drawn never fails ingestion."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import dagster as dg
import sqlalchemy as sa

T = TypeVar("T")

EVENT_CHART_KEY = "event_chart"
# Drawn after the commit, so the racer's request has already succeeded. The renderer's engine starts with the
# first chart (about 0.5 s): it holds the GIL while it starts, so starting it while the event is fetched
# froze the run's other threads, and a run holding LiveRC's turn kept LiveRC idle meanwhile.
# Drawn at a low CPU priority: at the end of a burst five runs draw at once, and on 2 cores they slowed the
# summaries build that a racer waits for (a chart in the Dagster UI can wait).
CHART_NICENESS = 10


def event_chart_metadata(
    context: dg.AssetExecutionContext, engine: sa.Engine, source_event_id: int, source: str = "liverc"
) -> dict[str, dg.MetadataValue]:
    """``event_chart`` (markdown with the PNG inline) and its render time, or nothing plus a warning."""
    try:
        from mre_pipeline.engineer.event_chart import draw_event_chart

        chart = at_low_priority(lambda: draw_event_chart(engine, source, source_event_id))
    except Exception as exc:  # noqa: BLE001 - the data are committed; a chart problem is only a warning
        context.log.warning(f"event chart not drawn for event {source_event_id}: {exc}")
        return {}
    return {
        EVENT_CHART_KEY: dg.MetadataValue.md(chart.markdown),
        "event_chart_seconds": dg.MetadataValue.float(chart.seconds),
    }


def at_low_priority(work: Callable[[], T]) -> T:
    """``work()`` in a thread of its own at niceness ``CHART_NICENESS``; the caller's priority is unchanged.

    Linux keeps a niceness per thread and threads inherit it, so the renderer's engine thread, started by
    the first chart of the process, runs niced too. Where a thread cannot be reniced the work runs as is.
    """
    with ThreadPoolExecutor(
        1, thread_name_prefix="event-chart", initializer=_lower_this_threads_priority
    ) as pool:
        return pool.submit(work).result()


def _lower_this_threads_priority() -> None:
    thread_id = threading.get_native_id()
    try:
        if os.getpriority(os.PRIO_PROCESS, thread_id) < CHART_NICENESS:
            os.setpriority(os.PRIO_PROCESS, thread_id, CHART_NICENESS)
    except OSError:  # not Linux (a thread id is not a process id there): the chart draws at normal priority
        pass
