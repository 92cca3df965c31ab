"""The race engineer's charts as Vega-Lite specifications (plain JSON-able dicts).

Why Vega-Lite, rendered by vl-convert:

- One declarative spec per chart serves every audience: the HTML report embeds it (interactive: tooltips,
  click a legend entry to bring a driver forward), the Dagster materialization shows it as an image, and
  the web app can hand the very same JSON to vega-embed.
- The data travel inside the spec (``data.values``), so a test can compare what a chart plots with the
  marts number for number, with no pixel reading (and the SVG Vega draws labels each mark with its values).
- ``vl-convert-python`` (one 33 MB wheel from PyPI: no browser, no runtime download) renders SVG/PNG and
  ships the Vega/Vega-Lite/vega-embed JavaScript bundle, so a report page inlines its script and needs no
  network. matplotlib would give static images only (no tooltips, no legend picking) and a second chart
  code path; plotly's static export (kaleido) needs a Chrome it downloads at run time.
- The specs are built as dicts rather than through Altair: Altair took 1-2 s to import here, which every
  event run would pay, and it adds nothing the grammar itself does not give.

Each builder takes rows as plain dicts (column -> value, e.g. from ``warehouse.engineer_queries``) and
returns a spec. Incident laps are laps more than ``INCIDENT_THRESHOLD_S`` off the driver's own median, as
in the coaching SQL.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
INCIDENT_THRESHOLD_S = 2.0
INCIDENT_LABEL = f"incident lap (> {INCIDENT_THRESHOLD_S:g} s off own median)"
WIDE = 640
NARROW = 380

Spec = dict[str, Any]
Row = Mapping[str, Any]


def json_value(value: Any) -> Any:
    """Decimals to floats, dates to ISO text: what a chart (and JSON) can carry."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _values(rows: Iterable[Row], columns: Sequence[str]) -> list[dict[str, Any]]:
    return [{c: json_value(r.get(c)) for c in columns} for r in rows]


def _spec(title: str, body: Spec, subtitle: str | None = None) -> Spec:
    heading: Any = {"text": title, "subtitle": subtitle} if subtitle else title
    return {"$schema": VEGA_LITE_SCHEMA, "title": heading, **body}


def _driver_color(order: Sequence[str], title: str = "Driver") -> Spec:
    return {
        "field": "driver_name",
        "type": "nominal",
        "title": title,
        "sort": list(order),
        # Every driver of the race, in finishing order, so a driver keeps one colour across the charts.
        "scale": {"scheme": "tableau20", "domain": list(order)},
        "legend": {"symbolLimit": 40},
    }


def _lap_axis() -> Spec:
    return {"field": "lap_number", "type": "quantitative", "title": "Lap", "axis": {"tickMinStep": 1}}


def finish_order(summaries: Iterable[Row]) -> list[str]:
    """Driver names in finishing order (the legend order of every race chart)."""
    return [r["driver_name"] for r in sorted(summaries, key=lambda r: r["finish_position"] or 999)]


def lap_rows_with_incidents(laps: Iterable[Row]) -> list[dict[str, Any]]:
    """The per-lap data the race charts plot, with ``incident`` computed like the coaching SQL."""
    columns = (
        "driver_name",
        "lap_number",
        "lap_time_s",
        "position",
        "cumulative_time_s",
        "gap_to_leader_s",
        "delta_to_own_median_s",
    )
    rows = _values(laps, columns)
    for row in rows:
        delta = row["delta_to_own_median_s"]
        row["incident"] = delta is not None and delta > INCIDENT_THRESHOLD_S
    return rows


def lap_times_chart(
    laps: list[dict[str, Any]],
    order: Sequence[str],
    chosen: Sequence[str] = (),
    title: str = "Lap times",
    width: int = WIDE,
    height: int = 300,
) -> Spec:
    """Lap time per lap per driver; incident laps marked. ``chosen`` drivers stand out, the rest fade."""
    pick: Spec = {
        "name": "pick",
        "select": {"type": "point", "fields": ["driver_name"]},
        "bind": "legend",
    }
    if chosen:
        pick["value"] = [{"driver_name": name} for name in chosen]
    y_scale: Spec = {"zero": False}
    subtitle = "Diamonds: laps more than 2 s off the driver's own median. Click a name to pick drivers."
    cap = lap_time_cap(laps)
    if cap is not None:
        y_scale.update(domainMax=cap, clamp=True)
        subtitle += f" Laps slower than {cap:g} s are drawn at the top edge."
    encoding = {
        "x": _lap_axis(),
        "y": {"field": "lap_time_s", "type": "quantitative", "title": "Lap time (s)", "scale": y_scale},
        "color": _driver_color(order),
        "opacity": {"condition": {"param": "pick", "value": 1}, "value": 0.12},
        "tooltip": [
            {"field": "driver_name", "title": "Driver"},
            {"field": "lap_number", "title": "Lap"},
            {"field": "lap_time_s", "title": "Lap time (s)", "format": ".3f"},
            {"field": "delta_to_own_median_s", "title": "vs own median (s)", "format": "+.3f"},
            {"field": "position", "title": "Position"},
        ],
    }
    incidents = {
        "transform": [{"filter": "datum.incident"}],
        "mark": {"type": "point", "shape": "diamond", "size": 70, "filled": True, "stroke": "black"},
        "encoding": {
            **encoding,
            "shape": {"datum": INCIDENT_LABEL, "title": None, "scale": {"range": ["diamond"]}},
        },
    }
    return _spec(
        title,
        {
            "width": width,
            "height": height,
            "data": {"values": laps},
            "layer": [
                {"params": [pick], "mark": {"type": "line", "strokeWidth": 1.6}, "encoding": encoding},
                incidents,
            ],
        },
        subtitle=subtitle,
    )


def lap_time_cap(laps: Sequence[Mapping[str, Any]], headroom_s: float = 3.0) -> float | None:
    """Top of the lap-time axis when a few very slow laps (crashes, pit stops) would flatten the rest.

    The slowest clean lap plus ``headroom_s``, rounded up to a whole second; None when nothing exceeds it.
    """
    clean = [r["lap_time_s"] for r in laps if not r["incident"] and r["lap_time_s"] is not None]
    if not clean:
        return None
    cap = float(math.ceil(max(clean) + headroom_s))
    return cap if any((r["lap_time_s"] or 0) > cap for r in laps) else None


def positions_chart(
    laps: list[dict[str, Any]],
    order: Sequence[str],
    title: str = "Position after each lap",
    width: int = WIDE,
) -> Spec:
    field_size = max((lap["position"] or 0 for lap in laps), default=1)
    return _spec(
        title,
        {
            "width": width,
            "height": max(180, 20 * field_size),
            "data": {"values": laps},
            "mark": {"type": "line", "strokeWidth": 1.6},
            "encoding": {
                "x": _lap_axis(),
                "y": {
                    "field": "position",
                    "type": "quantitative",
                    "title": "Position",
                    "scale": {"reverse": True, "domain": [1, field_size], "nice": False},
                    "axis": {"tickMinStep": 1, "values": list(range(1, field_size + 1))},
                },
                "color": _driver_color(order),
                "tooltip": [
                    {"field": "driver_name", "title": "Driver"},
                    {"field": "lap_number", "title": "Lap"},
                    {"field": "position", "title": "Position"},
                ],
            },
        },
    )


def gap_to_leader_chart(
    laps: list[dict[str, Any]], order: Sequence[str], title: str = "Gap to the leader", width: int = WIDE
) -> Spec:
    return _spec(
        title,
        {
            "width": width,
            "height": 300,
            "data": {"values": laps},
            "mark": {"type": "line", "strokeWidth": 1.6},
            "encoding": {
                "x": {"field": "cumulative_time_s", "type": "quantitative", "title": "Race time (s)"},
                "y": {"field": "gap_to_leader_s", "type": "quantitative", "title": "Behind the leader (s)"},
                "color": _driver_color(order),
                "tooltip": [
                    {"field": "driver_name", "title": "Driver"},
                    {"field": "lap_number", "title": "Lap"},
                    {"field": "cumulative_time_s", "title": "Race time (s)", "format": ".3f"},
                    {"field": "gap_to_leader_s", "title": "Gap (s)", "format": ".3f"},
                ],
            },
        },
        subtitle="Measured at each lap number: my race time minus the leader's after the same lap.",
    )


def consistency_rows(summaries: Iterable[Row]) -> list[dict[str, Any]]:
    columns = (
        "driver_name",
        "finish_position",
        "laps",
        "consistency_pct",
        "drop_off_s",
        "drop_off_pct",
        "first_third_avg_s",
        "last_third_avg_s",
    )
    return _values((r for r in summaries if r.get("laps")), columns)


def consistency_chart(
    rows: list[dict[str, Any]], order: Sequence[str], title: str = "Consistency and drop-off"
) -> Spec:
    """Per driver: consistency (dot) and drop-off, last third versus first third (bar; right = slower)."""
    # Every driver on the axis (a non-starter keeps an empty row), in finishing order.
    y = {"field": "driver_name", "type": "nominal", "title": None, "scale": {"domain": list(order)}}
    tooltip = [
        {"field": "driver_name", "title": "Driver"},
        {"field": "laps", "title": "Laps"},
        {"field": "consistency_pct", "title": "Consistency (%)", "format": ".2f"},
        {"field": "first_third_avg_s", "title": "First third avg (s)", "format": ".3f"},
        {"field": "last_third_avg_s", "title": "Last third avg (s)", "format": ".3f"},
        {"field": "drop_off_s", "title": "Drop-off (s)", "format": "+.3f"},
    ]
    height = max(120, 20 * len(order))
    return _spec(
        title,
        {
            "data": {"values": rows},
            "hconcat": [
                {
                    "width": 260,
                    "height": height,
                    "mark": {"type": "point", "filled": True, "size": 80},
                    "encoding": {
                        "y": y,
                        "x": {
                            "field": "consistency_pct",
                            "type": "quantitative",
                            "title": "Consistency (%)",
                            "scale": {"zero": False},
                        },
                        "color": {**_driver_color(order), "legend": None},
                        "tooltip": tooltip,
                    },
                },
                {
                    "width": 260,
                    "height": height,
                    "mark": "bar",
                    "encoding": {
                        "y": {**y, "axis": None},
                        "x": {
                            "field": "drop_off_s",
                            "type": "quantitative",
                            "title": "Drop-off: last third − first third (s)",
                        },
                        "color": {
                            "condition": {"test": "datum.drop_off_s > 0", "value": "#d62728"},
                            "value": "#2ca02c",
                        },
                        "tooltip": tooltip,
                    },
                },
            ],
            "resolve": {"scale": {"color": "independent"}},
        },
        subtitle="Consistency = 100 × (1 − stddev / mean) over all laps. Red: slower at the end.",
    )


def history_rows(history: Iterable[Row]) -> list[dict[str, Any]]:
    columns = (
        "race_date",
        "event_name",
        "track_slug",
        "class_name",
        "session_label",
        "laps",
        "best_lap_s",
        "mean_lap_s",
        "consistency_pct",
        "drop_off_s",
        "finish_position",
    )
    return _values((r for r in history if r.get("laps")), columns)


def driver_history_chart(rows: list[dict[str, Any]], driver_name: str) -> Spec:
    """One driver across events: consistency and drop-off per race, by date."""
    x = {"field": "race_date", "type": "temporal", "title": "Race date"}
    tooltip = [
        {"field": "race_date", "type": "temporal", "title": "Date"},
        {"field": "event_name", "title": "Event"},
        {"field": "track_slug", "title": "Track"},
        {"field": "class_name", "title": "Class"},
        {"field": "session_label", "title": "Session"},
        {"field": "finish_position", "title": "Finish"},
        {"field": "consistency_pct", "title": "Consistency (%)", "format": ".2f"},
        {"field": "drop_off_s", "title": "Drop-off (s)", "format": "+.3f"},
    ]
    color = {"field": "class_name", "type": "nominal", "title": "Class"}
    return _spec(
        f"{driver_name} across events",
        {
            "data": {"values": rows},
            "vconcat": [
                {
                    "width": WIDE,
                    "height": 200,
                    "mark": {"type": "point", "filled": True, "size": 70},
                    "encoding": {
                        "x": x,
                        "y": {
                            "field": "consistency_pct",
                            "type": "quantitative",
                            "title": "Consistency (%)",
                            "scale": {"zero": False},
                        },
                        "color": color,
                        "tooltip": tooltip,
                    },
                },
                {
                    "width": WIDE,
                    "height": 160,
                    "mark": {"type": "tick", "thickness": 3},
                    "encoding": {
                        "x": x,
                        "y": {
                            "field": "drop_off_s",
                            "type": "quantitative",
                            "title": "Drop-off (s, + = slower at the end)",
                        },
                        "color": color,
                        "tooltip": tooltip,
                    },
                },
            ],
        },
        subtitle="One mark per race started.",
    )


def race_label(race: Row) -> str:
    """``Race 12: 1/8 Electric Buggy A-Main`` (numbering as LiveRC shows it)."""
    return f"Race {race['race_number']}: {race['session_label']}"


def race_numbers(races: Sequence[Row]) -> dict[Any, str]:
    """``race_id -> "#1"``, ``"#2"``, ... in running order: short axis labels (vl-convert measures every
    glyph of every label, so 30 long race names cost more to draw than the rest of the image)."""
    return {r["race_id"]: f"#{i + 1}" for i, r in enumerate(races)}


def event_pace_chart(pace: Iterable[Row], races: Sequence[Row], title: str) -> Spec:
    """Every race of an event: each driver's median lap (dot) and best lap (tick). Sanity at a glance."""
    numbers = race_numbers(races)
    rows = _values(pace, ("median_lap_s", "best_lap_s"))
    for row, p in zip(rows, pace, strict=True):
        row["race"] = numbers.get(p["race_id"], "?")
    y = {"field": "race", "type": "ordinal", "title": "Race", "sort": list(numbers.values())}
    return _spec(
        title,
        {
            "width": WIDE + NARROW // 2,
            "height": max(60, 14 * len(numbers)),
            "data": {"values": rows},
            "layer": [
                {
                    "mark": {"type": "tick", "color": "#888", "thickness": 1},
                    "encoding": {"y": y, "x": {"field": "best_lap_s", "type": "quantitative"}},
                },
                {
                    "mark": {"type": "point", "filled": True, "size": 28, "opacity": 0.7},
                    "encoding": {
                        "y": y,
                        "x": {
                            "field": "median_lap_s",
                            "type": "quantitative",
                            "title": "Median lap (dot) and best lap (tick) per driver, s",
                            "scale": {"zero": False},
                        },
                    },
                },
            ],
        },
    )


def event_overview_chart(
    pace: Sequence[Row],
    races: Sequence[Row],
    featured: Row,
    featured_laps: list[dict[str, Any]],
    order: Sequence[str],
) -> Spec:
    """The admin's glance at one ingested event: pace of every race, then the featured race in detail
    (positions of the whole field; lap times of the podium, which stay readable at this size)."""
    number = race_numbers(races)[featured["race_id"]]
    podium = set(order[:3])
    podium_laps = [lap for lap in featured_laps if lap["driver_name"] in podium]
    return {
        "$schema": VEGA_LITE_SCHEMA,
        # A still image: no per-mark ARIA descriptions (half the SVG's size, less to render).
        "config": {"aria": False},
        "vconcat": [
            _strip_schema(event_pace_chart(pace, races, "Every race")),
            {
                "hconcat": [
                    {
                        **_strip_schema(lap_times_chart(podium_laps, order, width=NARROW, height=240)),
                        "title": {
                            "text": f"Race {number}: podium lap times",
                            "subtitle": "Diamonds: more than 2 s off own median",
                        },
                    },
                    _strip_schema(
                        positions_chart(featured_laps, order, title=f"Race {number}: positions", width=NARROW)
                    ),
                ],
                "resolve": {"scale": {"color": "shared"}},
            },
        ],
    }


def _strip_schema(spec: Spec) -> Spec:
    return {k: v for k, v in spec.items() if k != "$schema"}


def order_from_laps(laps: Iterable[Row]) -> list[str]:
    """Driver names in finishing order, from lap rows that carry ``finish_position``."""
    finish: dict[str, int] = {}
    for lap in laps:
        finish.setdefault(lap["driver_name"], lap.get("finish_position") or 999)
    return sorted(finish, key=lambda name: finish[name])


def chart_data(spec: Spec) -> list[dict[str, Any]]:
    """The rows a spec plots (for tests and for the web app team's checks)."""
    return spec["data"]["values"]
