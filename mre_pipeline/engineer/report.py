"""``mre-pipeline report``: one self-contained HTML page per event, for analysts and the web app team.

The page carries its charts as Vega-Lite specs (data inline, in ``<script id="mre-chart-specs">``), the
Vega bundle that draws them (inlined from vl-convert, so opening the file needs no network), and the key
tables, rendered by pandas. Per race: lap times (incident laps marked), position after each lap, gap to
the leader over race time, consistency and drop-off, and the results table. With ``--driver``: that
driver's races across every event in the warehouse.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from mre_pipeline.engineer import charts, render
from mre_pipeline.engineer.lookup import LookupProblem, require_marts, resolve_driver, resolve_event
from mre_pipeline.warehouse import engineer_queries as q

SPECS_ELEMENT_ID = "mre-chart-specs"
RACE_CHARTS = ("lap-times", "positions", "gap", "consistency")


@dataclass
class RaceSection:
    race: dict[str, Any]
    summaries: list[dict[str, Any]]
    laps: list[dict[str, Any]]
    specs: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class DriverSection:
    driver: dict[str, Any]
    history: list[dict[str, Any]]
    events: list[dict[str, Any]]
    spec: dict[str, Any]


@dataclass
class Report:
    event: dict[str, Any]
    races: list[dict[str, Any]]
    sections: list[RaceSection]
    drivers: list[DriverSection]

    def chart_specs(self) -> dict[str, dict[str, Any]]:
        """Element id -> spec, for every chart on the page."""
        specs: dict[str, dict[str, Any]] = {}
        for section in self.sections:
            for name, spec in section.specs.items():
                specs[chart_id(section.race["source_race_id"], name)] = spec
        for driver in self.drivers:
            specs[f"chart-driver-{driver.driver['source_driver_id']}"] = driver.spec
        return specs


def chart_id(source_race_id: int, name: str) -> str:
    return f"chart-{source_race_id}-{name}"


# --- gathering ---------------------------------------------------------------------------------------------


def gather_report(
    engine: sa.Engine,
    source_event_id: int,
    source: str = "liverc",
    race_ids: Sequence[int] = (),
    driver_texts: Sequence[str] = (),
) -> Report:
    with engine.connect() as conn:
        event = resolve_event(conn, source_event_id, source, argument="--event")
        require_marts(conn, event, argument="--event")
        races = q.event_races(conn, event["event_id"])
        drivers = [resolve_driver(conn, text, source, argument="--driver") for text in driver_texts]
        chosen_races = _choose_races(races, race_ids, event)
        sections = [_race_section(conn, race, drivers) for race in chosen_races]
        sections = [s for s in sections if s.summaries]
        if drivers and not race_ids:
            driver_ids = {d["driver_id"] for d in drivers}
            sections = [s for s in sections if driver_ids & {r["driver_id"] for r in s.summaries}]
            if not sections:
                names = ", ".join(d["driver_name"] for d in drivers)
                raise LookupProblem("--driver", f"{names} did not race in event {source_event_id}")
        driver_sections = [_driver_section(conn, d) for d in drivers]
    return Report(event=event, races=races, sections=sections, drivers=driver_sections)


def _choose_races(races: list[dict[str, Any]], race_ids: Sequence[int], event: dict[str, Any]) -> list[dict]:
    if not race_ids:
        return [r for r in races if r["starters"]]
    by_id = {r["source_race_id"]: r for r in races}
    missing = [rid for rid in race_ids if rid not in by_id]
    if missing:
        raise LookupProblem(
            "--race",
            f"race {missing[0]} is not part of event {event['source_event_id']} ({event['event_name']}); "
            f"its races are {', '.join(str(r['source_race_id']) for r in races)}",
        )
    return [by_id[rid] for rid in race_ids]


def _race_section(conn: sa.Connection, race: dict[str, Any], drivers: list[dict[str, Any]]) -> RaceSection:
    summaries = q.race_summaries(conn, race["race_id"])
    laps = charts.lap_rows_with_incidents(q.race_laps(conn, race["race_id"]))
    section = RaceSection(race=race, summaries=summaries, laps=laps)
    if not summaries:
        return section
    order = charts.finish_order(summaries)
    present = {r["driver_id"] for r in summaries}
    chosen = [d["driver_name"] for d in drivers if d["driver_id"] in present]
    label = charts.race_label(race)
    section.specs = {
        "lap-times": charts.lap_times_chart(laps, order, chosen, title=f"{label}: lap times"),
        "positions": charts.positions_chart(laps, order, title=f"{label}: position after each lap"),
        "gap": charts.gap_to_leader_chart(laps, order, title=f"{label}: gap to the leader"),
        "consistency": charts.consistency_chart(
            charts.consistency_rows(summaries), order, title=f"{label}: consistency and drop-off"
        ),
    }
    return section


def _driver_section(conn: sa.Connection, driver: dict[str, Any]) -> DriverSection:
    history = q.driver_race_history(conn, driver["driver_id"])
    events = q.driver_event_summaries(conn, driver["driver_id"])
    spec = charts.driver_history_chart(charts.history_rows(history), driver["driver_name"])
    return DriverSection(driver=driver, history=history, events=events, spec=spec)


# --- tables ----------------------------------------------------------------------------------------------


def _table(rows: list[dict[str, Any]], columns: dict[str, str], css_class: str) -> str:
    """An HTML table of ``rows`` with ``columns`` (source name -> heading), numbers as the warehouse has them."""
    if not rows:
        return "<p class='empty'>No rows.</p>"
    frame = pd.DataFrame([{heading: r.get(col) for col, heading in columns.items()} for r in rows])
    frame = frame.convert_dtypes()  # whole numbers stay whole (no 3.0 for a grid slot next to a blank)
    frame = frame.astype(object).where(frame.notna(), "")
    table = frame.to_html(index=False, classes=css_class, border=0, escape=True)
    return f"<div class='table-scroll'>{table}</div>"


def races_table(races: list[dict[str, Any]]) -> str:
    rows = [{**r, "race": charts.race_label(r)} for r in races]
    return _table(
        rows,
        {
            "source_race_id": "LiveRC race",
            "race": "Race",
            "class_name": "Class",
            "section": "Section",
            "completed_at": "Completed (track time)",
            "drivers": "Drivers",
            "starters": "Started",
            "winner_name": "Winner",
            "winner_laps": "Laps",
            "winner_time_s": "Time (s)",
        },
        "races",
    )


def results_table(section: RaceSection) -> str:
    incidents: dict[str, int] = {}
    for lap in section.laps:
        incidents[lap["driver_name"]] = incidents.get(lap["driver_name"], 0) + int(lap["incident"])
    rows = [{**r, "incident_laps": incidents.get(r["driver_name"], 0)} for r in section.summaries]
    return _table(
        rows,
        {
            "finish_position": "Pos",
            "driver_name": "Driver",
            "car_number": "Car",
            "grid_position": "Grid",
            "laps": "Laps",
            "total_time_s": "Total (s)",
            "gap_to_winner_s": "Gap to winner (s)",
            "best_lap_s": "Best lap (s)",
            "mean_lap_s": "Mean lap (s)",
            "median_lap_s": "Median lap (s)",
            "consistency_pct": "Consistency (%)",
            "first_third_avg_s": "First third (s)",
            "last_third_avg_s": "Last third (s)",
            "drop_off_s": "Drop-off (s)",
            "incident_laps": "Incident laps",
        },
        "results",
    )


def driver_events_table(events: list[dict[str, Any]]) -> str:
    return _table(
        events,
        {
            "event_start_date": "Date",
            "event_name": "Event",
            "track_slug": "Track",
            "classes": "Classes",
            "races_started": "Races",
            "laps": "Laps",
            "best_lap_s": "Best lap (s)",
            "consistency_pct": "Consistency (%)",
            "best_finish_position": "Best finish",
        },
        "driver-events",
    )


def driver_races_table(history: list[dict[str, Any]]) -> str:
    return _table(
        history,
        {
            "race_date": "Date",
            "event_name": "Event",
            "class_name": "Class",
            "session_label": "Session",
            "source_race_id": "LiveRC race",
            "finish_position": "Pos",
            "laps": "Laps",
            "best_lap_s": "Best lap (s)",
            "mean_lap_s": "Mean lap (s)",
            "consistency_pct": "Consistency (%)",
            "drop_off_s": "Drop-off (s)",
        },
        "driver-races",
    )


# --- page ------------------------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px; color: #1b1b1b; }
header p, .note { color: #555; }
section { margin: 32px 0; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.chart { margin: 16px 0; min-height: 40px; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0 16px; }
th, td { padding: 3px 8px; border-bottom: 1px solid #eee; text-align: right; white-space: nowrap; }
th { background: #f5f5f5; }
td:nth-child(2), th:nth-child(2) { text-align: left; }
.chart-error { color: #b00020; }
.table-scroll { overflow-x: auto; }
"""

DRAW_SCRIPT = """
const specs = JSON.parse(document.getElementById("%(specs_id)s").textContent);
for (const [id, spec] of Object.entries(specs)) {
  const element = document.getElementById(id);
  vegaEmbed(element, spec, {actions: false, renderer: "svg", mode: "vega-lite"})
    .then(() => { element.dataset.rendered = "true"; })
    .catch((error) => {
      element.dataset.rendered = "error";
      element.classList.add("chart-error");
      element.textContent = "This chart could not be drawn: " + error;
    });
}
"""


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _race_heading(section: RaceSection) -> str:
    race = section.race
    started = sum(1 for r in section.summaries if r["laps"])
    winner = next((r for r in section.summaries if r["finish_position"] == 1), None)
    facts = [
        f"LiveRC race {race['source_race_id']}",
        f"{started} of {len(section.summaries)} drivers started",
    ]
    if winner and winner["laps"]:
        facts.append(f"won by {winner['driver_name']}: {winner['laps']} laps in {winner['total_time_s']} s")
    return (
        f"<h2>{_esc(charts.race_label(race))}</h2>"
        f"<p class='note'>{_esc(race['class_name'])} · {_esc(' · '.join(facts))}</p>"
    )


def render_html(report: Report, generated_at: datetime | None = None) -> str:
    event = report.event
    when = (generated_at or datetime.now()).strftime("%Y-%m-%d %H:%M")
    dates = event["start_date"].isoformat()
    if event["end_date"] != event["start_date"]:
        dates += f" to {event['end_date'].isoformat()}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(event['event_name'])}: race engineer report</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<header><h1>{_esc(event['event_name'])}</h1>",
        f"<p>{_esc(event['track_name'])} ({_esc(event['track_slug'])}) · {_esc(dates)} · "
        f"{_esc(event['source'])} event {_esc(event['source_event_id'])} · report generated {_esc(when)} "
        "from the warehouse summaries (mre_summaries)</p></header>",
        "<section id='races'><h2>Races</h2>",
        races_table(report.races),
        "</section>",
    ]
    for section in report.sections:
        rid = section.race["source_race_id"]
        parts.append(f"<section class='race' id='race-{rid}'>{_race_heading(section)}")
        parts.extend(f"<div class='chart' id='{chart_id(rid, name)}'></div>" for name in section.specs)
        parts.append("<h3>Results</h3>")
        parts.append(results_table(section))
        parts.append("</section>")
    for driver in report.drivers:
        did = driver.driver["source_driver_id"]
        parts.append(
            f"<section class='driver' id='driver-{did}'><h2>{_esc(driver.driver['driver_name'])} across events</h2>"
        )
        parts.append(f"<div class='chart' id='chart-driver-{did}'></div>")
        parts.append("<h3>Events</h3>")
        parts.append(driver_events_table(driver.events))
        parts.append("<h3>Races</h3>")
        parts.append(driver_races_table(driver.history))
        parts.append("</section>")
    parts.append(
        f'<script type="application/json" id="{SPECS_ELEMENT_ID}">'
        f"{render.script_json(report.chart_specs())}</script>"
    )
    parts.append(f"<script>{render.javascript_bundle()}</script>")
    parts.append(f"<script>{DRAW_SCRIPT % {'specs_id': SPECS_ELEMENT_ID}}</script>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(
    engine: sa.Engine,
    out_path: str,
    source_event_id: int,
    source: str = "liverc",
    race_ids: Sequence[int] = (),
    driver_texts: Sequence[str] = (),
) -> Report:
    report = gather_report(engine, source_event_id, source, race_ids, driver_texts)
    page = render_html(report)
    with open(out_path, "w", encoding="utf-8") as handle:
        handle.write(page)
    return report
