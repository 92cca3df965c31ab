"""Race result, ``/results/?p=view_race_result&id=<raceId>``: the results table plus inline lap data.

The table gives positions, car numbers, Laps/Time and LiveRC's published statistics; ``racerLaps`` gives
every lap (lap 0 is the grid marker, not a lap, but its position is the grid slot) and the only id of a
non-starter, matched by name. Statistics are stored as LiveRC published them (the 3-decimal racerLaps
figures when present, else the table's): LiveRC sometimes leaves lap 1 out of them.
"""

from __future__ import annotations

from typing import Any

from lxml.html import HtmlElement

from mre_pipeline.connectors.liverc.pages.common import (
    Missing,
    as_text,
    child_cells,
    document,
    first,
    guarded,
    has_class,
    require,
    xpath,
)
from mre_pipeline.connectors.liverc.racer_laps import LapDataError, extract_racer_laps
from mre_pipeline.connectors.liverc.values import (
    clean,
    duration_seconds,
    hidden_value,
    laps_and_time,
    optional_float,
    optional_int,
    text_of,
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
_TABLE = xpath(f"//table[{has_class('race_result')}]")
_HEAD_ROWS = xpath("./thead/tr")
_BODY_ROWS = xpath("./tbody/tr[td]")
_DRIVER_LINK = xpath(".//a[@data-driver-id]")
_NAME = xpath(f".//span[{has_class('driver_name')}]")
_CAR = xpath(f".//span[{has_class('car_num')}]")
_CLASS_HEADER = xpath(f".//span[{has_class('class_header')}]")
_SUB_HEADERS = xpath(f".//span[{has_class('class_sub_header')}]")
_RACE_NUM = xpath(f".//div[{has_class('race_num')}]")


def _name_key(name: str) -> str:
    return clean(name).upper()


def _columns(table: HtmlElement) -> dict[str, int]:
    rows = _HEAD_ROWS(table)
    if not rows:
        raise Missing("results table header")
    headers = [text_of(th).lower() for th in child_cells(rows[-1], "th")]
    return {h: i for i, h in enumerate(headers)}


def _cell_seconds(cell: HtmlElement) -> float | None:
    hidden = hidden_value(cell)
    if hidden is not None:
        return optional_float(hidden)
    visible = text_without_hidden(cell).rstrip("%")
    return duration_seconds(visible) if visible else None


def _position(value: object) -> int | None:
    number = optional_int(str(value or ""))
    return number if number else None


def _laps(block: dict[str, Any] | None) -> tuple[tuple[LapRecord, ...], int | None]:
    """Timed laps (lap 0 dropped) and the grid slot that lap 0 carries."""
    if not block:
        return (), None
    raw_laps = block.get("laps") or []
    if not isinstance(raw_laps, list):
        raise Missing("racerLaps 'laps' is not a list")
    laps: list[LapRecord] = []
    grid = None
    for raw in raw_laps:
        if not isinstance(raw, dict):
            raise Missing("a racerLaps lap that is not an object")
        number = int(str(raw.get("lapNum", "")).strip())
        if number == 0:
            grid = _position(raw.get("pos"))
            continue
        if number < 0:
            raise Missing(f"lap number {number}")
        lap_time = optional_float(str(raw.get("time", "")))
        if lap_time is None:
            raise Missing(f"time of lap {number}")
        laps.append(
            LapRecord(
                lap_number=number,
                lap_time_s=lap_time,
                position=_position(raw.get("pos")),
                pace=clean(str(raw.get("pace", ""))) or None,
            )
        )
    return tuple(laps), grid


def _driver_ids(rows: list[HtmlElement], blocks: dict[int, dict[str, Any]]) -> list[int]:
    """Each row's driver id: ``data-driver-id``, else (a non-starter) the one racerLaps key with its name."""
    explicit: list[int | None] = []
    for row in rows:
        link = first(_DRIVER_LINK(row))
        raw = (link.get("data-driver-id") or "").strip() if link is not None else ""
        explicit.append(int(raw) if raw.isdecimal() and raw.isascii() else None)
    claimed = {i for i in explicit if i is not None}
    by_name: dict[str, list[int]] = {}
    for driver_id, block in blocks.items():
        if driver_id not in claimed:
            by_name.setdefault(_name_key(str(block.get("driverName", ""))), []).append(driver_id)
    ids: list[int] = []
    for row, driver_id in zip(rows, explicit, strict=True):
        if driver_id is None:
            name = _row_name(row)
            candidates = by_name.get(_name_key(name), [])
            if len(candidates) != 1:
                raise Missing(
                    f"driver id for {name!r} (no data-driver-id and {len(candidates)} unclaimed lap-data blocks)"
                )
            driver_id = candidates.pop()
        ids.append(driver_id)
    return ids


def _row_name(row: HtmlElement) -> str:
    node = first(_NAME(row))
    return text_of(node)


@guarded("race")
def parse_race(html: str | bytes, race_id: int, *, url: str | None = None) -> RaceResult:
    """Drivers in finishing order, each with LiveRC's published figures and their laps."""
    text = as_text(html)
    root = document(text)
    table = require(first(_TABLE(root)), "results table (table.race_result)")
    columns = _columns(table)
    for needed in ("pos", "driver", "laps/time"):
        if needed not in columns:
            raise Missing(f"column {needed!r} in the results table")
    try:
        blocks = extract_racer_laps(text)
    except LapDataError as exc:
        raise Missing(f"lap data (racerLaps): {exc}") from None

    rows = _BODY_ROWS(table)
    ids = _driver_ids(rows, blocks)
    drivers: list[DriverResult] = []
    for index, (row, driver_id) in enumerate(zip(rows, ids, strict=True)):
        cells = child_cells(row)
        if len(cells) < len(columns):
            raise Missing(f"cells in results row {index + 1} ({len(cells)} of {len(columns)})")

        def cell(name: str, cells: list[HtmlElement] = cells) -> HtmlElement | None:
            i = columns.get(name)
            return cells[i] if i is not None else None

        driver_cell = cells[columns["driver"]]
        name = _row_name(row) or text_without_hidden(driver_cell)
        if not name:
            raise Missing(f"driver name in results row {index + 1}")
        block = blocks.get(driver_id)
        laps, grid = _laps(block)
        laps_completed, total = laps_and_time(cells[columns["laps/time"]].text_content())
        stats: dict[str, float | None] = {}
        for header, field in _TABLE_STATS.items():
            node = cell(header)
            stats[field] = _cell_seconds(node) if node is not None else None
        for key, field in _JS_STATS.items():
            value = optional_float(str(block.get(key) or "")) if block else None
            if value is not None:
                stats[field] = value
        fastest_number = None
        fastest_cell = cell("fastest lap")
        if fastest_cell is not None:
            sup = fastest_cell.find(".//sup")
            fastest_number = optional_int(sup.text_content()) if sup is not None else None
            if stats.get("fastest_lap_s") is None:
                visible = clean(fastest_cell.text or "")
                stats["fastest_lap_s"] = duration_seconds(visible) if visible else None
        position = optional_int(cells[columns["pos"]].text_content())
        if position is None:
            raise Missing(f"position of {name!r}")
        qual, behind = cell("qual"), cell("behind")
        car = first(_CAR(driver_cell))
        drivers.append(
            DriverResult(
                driver_id=driver_id,
                driver_name=name,
                position=position,
                laps_completed=laps_completed,
                total_time_s=total,
                car_number=text_of(car) or None,
                qual_position=optional_int(qual.text_content()) if qual is not None else None,
                grid_position=grid,
                behind_text=text_of(behind) or None,
                fastest_lap_number=fastest_number,
                laps=laps,
                **stats,
            )
        )
    if not drivers:
        raise Missing("driver rows in the results table")
    sub_headers = [text_of(n) for n in _SUB_HEADERS(table)]
    round_label = next(
        (s.partition(":")[2].strip() for s in sub_headers if s.lower().startswith("round:")), ""
    )
    length = next((s.partition(":")[2].strip() for s in sub_headers if s.lower().startswith("length:")), "")
    return RaceResult(
        race_id=race_id,
        class_header=text_of(first(_CLASS_HEADER(table))) or None,
        round_label=round_label or None,
        length_label=length or None,
        race_number=optional_int(text_of(first(_RACE_NUM(table)))),
        drivers=tuple(drivers),
    )
