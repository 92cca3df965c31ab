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
    spec = charts.event_overview_chart(pace, races, featured, charts.lap_rows_with_incidents(raw_laps), order)
    svg = render.to_svg(spec)
    markdown = "\n\n".join(
        [_caption(event, races, featured), render.image_markdown(svg, "event chart"), races_markdown(races)]
    )
    return EventChart(
        markdown=markdown,
        svg=svg,
        featured_race_id=featured["source_race_id"],
        races=len(races),
        seconds=round(time.perf_counter() - started, 3),
    )


def _caption(event: dict, races: list[dict], featured: dict) -> str:
    number = charts.race_numbers(races)[featured["race_id"]]
    return (
        f"**{event['event_name']}** ({event['start_date'].isoformat()}, {event['track_slug']}): "
        f"{len(races)} races. Top: every driver's median lap (dot) and best lap (tick) in each race. "
        f"Below: race {number}, {charts.race_label(featured)}, lap by lap. Races are numbered in running "
        "order, as in the table."
    )


def races_markdown(races: list[dict]) -> str:
    """The races as a markdown table (text is free in the UI; in the image it is the costly part)."""
    numbers = charts.race_numbers(races)
    lines = [
        "| # | LiveRC race | Race | Drivers | Started | Winner | Laps | Time (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for race in races:
        cells = (
            numbers[race["race_id"]],
            race["source_race_id"],
            charts.race_label(race),
            race["drivers"],
            race["starters"],
            race["winner_name"] or "",
            "" if race["winner_laps"] is None else race["winner_laps"],
            "" if race["winner_time_s"] is None else race["winner_time_s"],
        )
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)
