"""The chart on each ingested event's materialization: an admin's glance that the data are sane.

Drawn from the raw tables right after the event is written (dbt builds the marts later, in its own run):
every race's median and best laps per driver, then the event's last race (usually the final main) lap
by lap. A few small queries and one SVG; no dbt, no Altair.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa

from mre_pipeline.engineer import charts, render
from mre_pipeline.warehouse import engineer_queries as q


class NoEventChart(LookupError):
    """The event has nothing to draw (not ingested, or no timed laps)."""


@dataclass(frozen=True)
class EventChart:
    markdown: str
    svg: str
    featured_race_id: int
    races: int
    seconds: float


def featured_race(races: list[dict]) -> dict:
    """The last race of the event that has timed laps (the final main, as LiveRC orders races)."""
    started = [r for r in races if r["starters"]]
    if not started:
        raise NoEventChart("the event has no race with timed laps")
    return started[-1]


def draw_event_chart(engine: sa.Engine, source: str, source_event_id: int) -> EventChart:
    started = time.perf_counter()
    with engine.connect() as conn:
        event = q.find_event(conn, source, source_event_id)
        if event is None:
            raise NoEventChart(f"event {source_event_id} is not in the warehouse")
        races = q.event_races(conn, event["event_id"])
        featured = featured_race(races)
        pace = q.raw_event_pace(conn, event["event_id"])
        raw_laps = q.raw_race_laps(conn, featured["race_id"])
    order = charts.order_from_laps(raw_laps)
    title = f"{event['event_name']} ({event['start_date'].isoformat()})"
    spec = charts.event_overview_chart(
        pace, races, featured, charts.lap_rows_with_incidents(raw_laps), order, title
    )
    svg = render.to_svg(spec)
    caption = (
        f"**{title}**: {len(races)} races. Top: every driver's median lap (dot) and best lap (tick) per "
        f"race. Below: {charts.race_label(featured)} (LiveRC race {featured['source_race_id']}), lap "
        "times with incident laps (diamonds) and positions."
    )
    markdown = f"{caption}\n\n{render.image_markdown(svg, 'event chart')}"
    return EventChart(
        markdown=markdown,
        svg=svg,
        featured_race_id=featured["source_race_id"],
        races=len(races),
        seconds=round(time.perf_counter() - started, 3),
    )
