"""Race result, ``/results/?p=view_race_result&id=<raceId>``: the results table plus inline lap data.

The table gives positions, car numbers, Laps/Time and LiveRC's published statistics; ``racerLaps`` gives
every lap (lap 0 is the grid marker, not a lap) and the only id of a non-starter, matched by name.
"""

from __future__ import annotations

from typing import Any

from bs4 import Tag

from mre_pipeline.connectors.liverc.pages.common import Missing, guarded, require, soup_of
from mre_pipeline.connectors.liverc.racer_laps import LapDataError, extract_racer_laps
from mre_pipeline.connectors.liverc.values import (
    clean,
    duration_seconds,
    hidden_value,
    laps_and_time,
    optional_float,
    optional_int,
    text_without_hidden,
)
from mre_pipeline.connectors.records import DriverResult, LapRecord, RaceResult

# racerLaps field -> DriverResult field; the 3-decimal JS values are the published figures at full precision.
_JS_STATS = {
    "fastLap": "fastest_lap_s",
    "avgLap": "avg_lap_s",
    "avgTop5": "avg_top5_s",
    "avgTop10": "avg_top10_s",
    "avgTop15": "avg_top15_s",
    "top3Consecutive": "top3_consecutive_s",
    "stdDeviation": "std_deviation_s",
    "consistency": "consistency_pct",
}
# table header -> DriverResult field, for pages whose lap data lacks a figure.
_TABLE_STATS = {
    "avg lap": "avg_lap_s",
    "avg top 5": "avg_top5_s",
    "avg top 10": "avg_top10_s",
    "avg top 15": "avg_top15_s",
    "top 3 consecutive": "top3_consecutive_s",
    "std. deviation": "std_deviation_s",
    "consistency": "consistency_pct",
}


def _name_key(name: str) -> str:
    return clean(name).upper()


def _columns(table: Tag) -> dict[str, int]:
    rows = table.select("thead > tr")
    if not rows:
        raise Missing("results table header")
    headers = [clean(th.get_text()).lower() for th in rows[-1].find_all("th")]
    return {h: i for i, h in enumerate(headers)}


def _cell_seconds(cell: Tag) -> float | None:
    hidden = hidden_value(cell)
    if hidden is not None:
        return optional_float(hidden)
    return duration_seconds(text_without_hidden(cell).rstrip("%")) if text_without_hidden(cell) else None


def _laps(block: dict[str, Any] | None) -> tuple[tuple[LapRecord, ...], int | None]:
    if not block:
        return (), None
    laps: list[LapRecord] = []
    grid = None
    for raw in block.get("laps") or []:
        number = int(str(raw.get("lapNum", "")).strip())
        position = optional_int(str(raw.get("pos", "")))
        if number == 0:
            grid = position if position and position > 0 else None
            continue
        laps.append(
            LapRecord(
                lap_number=number,
                lap_time_s=float(str(raw.get("time", "")).strip()),
                position=position if position and position > 0 else None,
                pace=clean(str(raw.get("pace", ""))) or None,
            )
        )
    return tuple(laps), grid


def _header_text(table: Tag, selector: str) -> list[str]:
    return [clean(n.get_text()) for n in table.select(selector)]


@guarded("race")
def parse_race(html: str | bytes, race_id: int, *, url: str | None = None) -> RaceResult:
    text = html.decode("utf-8", "replace") if isinstance(html, bytes) else html
    soup = soup_of(text)
    table = require(soup.select_one("table.race_result"), "results table (table.race_result)")
    columns = _columns(table)
    for needed in ("pos", "driver", "laps/time"):
        if needed not in columns:
            raise Missing(f"column {needed!r} in the results table")
    try:
        blocks = extract_racer_laps(text)
    except LapDataError as exc:
        raise Missing(f"lap data (racerLaps): {exc}") from None
    by_name: dict[str, list[int]] = {}
    for driver_id, block in blocks.items():
        by_name.setdefault(_name_key(str(block.get("driverName", ""))), []).append(driver_id)

    rows = [r for r in table.select("tbody > tr") if r.find("td")]
    claimed = set()
    for row in rows:
        link = row.select_one("a[data-driver-id]")
        if link is not None and str(link["data-driver-id"]).strip().isdigit():
            claimed.add(int(link["data-driver-id"]))

    drivers: list[DriverResult] = []
    for index, row in enumerate(rows):
        cells = row.find_all("td", recursive=False)
        if len(cells) < len(columns):
            raise Missing(f"cells in results row {index + 1} ({len(cells)} of {len(columns)})")

        def cell(name: str, cells: list[Tag] = cells) -> Tag | None:
            i = columns.get(name)
            return cells[i] if i is not None else None

        driver_cell = cell("driver")
        name_node = driver_cell.select_one("span.driver_name")
        name = clean(name_node.get_text()) if name_node is not None else text_without_hidden(driver_cell)
        if not name:
            raise Missing(f"driver name in results row {index + 1}")
        link = driver_cell.select_one("a[data-driver-id]")
        raw_id = str(link["data-driver-id"]).strip() if link is not None else ""
        if raw_id.isdigit():
            driver_id = int(raw_id)
        else:  # non-starter: the id exists only as a racerLaps key; match it by name
            candidates = [i for i in by_name.get(_name_key(name), []) if i not in claimed]
            if len(candidates) != 1:
                raise Missing(
                    f"driver id for {name!r} (no data-driver-id and {len(candidates)} matching lap-data blocks)"
                )
            driver_id = candidates[0]
            claimed.add(driver_id)
        block = blocks.get(driver_id)
        laps, grid = _laps(block)
        laps_completed, total = laps_and_time(cell("laps/time").get_text())
        car = driver_cell.select_one("span.car_num")
        stats: dict[str, float | None] = {}
        for header, field in _TABLE_STATS.items():
            node = cell(header)
            stats[field] = _cell_seconds(node) if node is not None else None
        for key, field in _JS_STATS.items():
            value = optional_float(str(block.get(key, ""))) if block else None
            if value is not None:
                stats[field] = value
        fastest_cell = cell("fastest lap")
        fastest_number = None
        if fastest_cell is not None:
            sup = fastest_cell.find("sup")
            if sup is not None:
                fastest_number = optional_int(sup.get_text())
                sup.extract()
            if stats.get("fastest_lap_s") is None:
                stats["fastest_lap_s"] = duration_seconds(text_without_hidden(fastest_cell))
        position = optional_int(cell("pos").get_text())
        if position is None:
            raise Missing(f"position of {name!r}")
        qual = cell("qual")
        behind = cell("behind")
        drivers.append(
            DriverResult(
                driver_id=driver_id,
                driver_name=name,
                position=position,
                laps_completed=laps_completed,
                total_time_s=total,
                car_number=clean(car.get_text()) or None if car is not None else None,
                qual_position=optional_int(qual.get_text()) if qual is not None else None,
                grid_position=grid,
                behind_text=clean(behind.get_text()) or None if behind is not None else None,
                fastest_lap_number=fastest_number,
                laps=laps,
                **stats,
            )
        )
    if not drivers:
        raise Missing("driver rows in the results table")
    header = table.select_one("span.class_header")
    sub_headers = _header_text(table, "span.class_sub_header")
    round_label = next(
        (s.partition(":")[2].strip() for s in sub_headers if s.lower().startswith("round:")), None
    )
    length = next((s.partition(":")[2].strip() for s in sub_headers if s.lower().startswith("length:")), None)
    race_num = table.select_one("div.race_num")
    return RaceResult(
        race_id=race_id,
        class_header=clean(header.get_text()) or None if header is not None else None,
        round_label=round_label or None,
        length_label=length or None,
        race_number=optional_int(race_num.get_text()) if race_num is not None else None,
        drivers=tuple(drivers),
    )
