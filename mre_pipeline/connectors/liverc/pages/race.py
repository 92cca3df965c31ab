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
    Implausible,
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
from mre_pipeline.connectors.plausibility import TIME_TOLERANCE_S, TWO_DECIMALS_TOLERANCE, race_findings
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
_TWO_DECIMALS = {"std_deviation_s", "consistency_pct"}  # the table prints these to 2 dp, the lap data 3
_LABELS = {
    "fastest_lap_s": "fastest lap",
    "avg_lap_s": "average lap",
    "avg_top5_s": "average of the best 5",
    "avg_top10_s": "average of the best 10",
    "avg_top15_s": "average of the best 15",
    "top3_consecutive_s": "best 3 consecutive laps",
    "std_deviation_s": "standard deviation",
    "consistency_pct": "consistency",
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
    """A printed position; None only when blank (0 is kept, and refused by the plausibility rules)."""
    return optional_int(str(value if value is not None else ""))


def _lap(raw: object, index: int) -> tuple[int, LapRecord | None, int | None]:
    """(lap number, the timed lap or None for lap 0, the grid slot lap 0 carries)."""
    if not isinstance(raw, dict):
        raise Missing(f"lap entry {index + 1} of the lap data is not an object")
    number = optional_int(str(raw.get("lapNum", "")))
    if number is None:
        raise Missing(f"lap number of lap entry {index + 1}")
    if number == 0:
        return 0, None, _position(raw.get("pos"))
    lap_time = optional_float(str(raw.get("time", "")))
    if lap_time is None:
        raise Missing(f"time of lap {number}")
    position = _position(raw.get("pos"))
    if position is None:
        raise Missing(f"position after lap {number}")
    pace = clean(str(raw.get("pace", ""))) or None
    return number, LapRecord(lap_number=number, lap_time_s=lap_time, position=position, pace=pace), None


def _laps(block: dict[str, Any] | None) -> tuple[tuple[LapRecord, ...], int | None]:
    """Timed laps (lap 0 dropped) and the grid slot that lap 0 carries."""
    if not block:
        return (), None
    raw_laps = block.get("laps") or []
    if not isinstance(raw_laps, list):
        raise Missing("racerLaps 'laps' is not a list")
    laps: list[LapRecord] = []
    grid = None
    for index, raw in enumerate(raw_laps):
        number, lap, slot = _lap(raw, index)
        if lap is None:
            if grid is not None or laps:
                raise Missing("a second or late lap 0 in the lap data")
            grid = slot
        else:
            laps.append(lap)
    return tuple(laps), grid


def _driver_ids(rows: list[HtmlElement], blocks: dict[int, dict[str, Any]]) -> list[int]:
    """Each row's driver id: ``data-driver-id``, else (a non-starter) the one racerLaps key with its name."""
    explicit: list[int | None] = []
    for row in rows:
        link = first(_DRIVER_LINK(row))
        raw = (link.get("data-driver-id") or "").strip() if link is not None else ""
        explicit.append(int(raw) if raw.isdecimal() and raw.isascii() and len(raw) < 19 else None)
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


def _same_drivers(
    race_id: int, rows: list[HtmlElement], ids: list[int], blocks: dict[int, dict[str, Any]]
) -> None:
    """The results table and the lap data must describe the same drivers, each once."""
    seen: set[int] = set()
    for row, driver_id in zip(rows, ids, strict=True):
        if driver_id in seen:
            raise Implausible(
                f"race {race_id}, driver {_row_name(row)} ({driver_id}): two rows in the results table",
                race_id,
                driver_id,
                _row_name(row),
            )
        seen.add(driver_id)
    for driver_id in blocks.keys() - seen:
        name = clean(str(blocks[driver_id].get("driverName", "")))
        raise Implausible(
            f"race {race_id}, driver {name} ({driver_id}): in the lap data but not in the results table",
            race_id,
            driver_id,
            name,
        )
    for row, driver_id in zip(rows, ids, strict=True):
        if driver_id not in blocks:
            raise Implausible(
                f"race {race_id}, driver {_row_name(row)} ({driver_id}): in the results table but not in the lap data",
                race_id,
                driver_id,
                _row_name(row),
            )


def _table_figures(
    cells: list[HtmlElement], columns: dict[str, int]
) -> tuple[dict[str, float | None], int | None]:
    """The published statistics as the table prints them, and the fastest lap's number."""
    figures: dict[str, float | None] = {}
    for header, name in _TABLE_STATS.items():
        i = columns.get(header)
        if i is not None:
            figures[name] = _cell_seconds(cells[i])
    fastest_number = None
    i = columns.get("fastest lap")
    if i is not None:
        cell = cells[i]
        sup = cell.find(".//sup")
        fastest_number = optional_int(sup.text_content()) if sup is not None else None
        visible = clean(cell.text or "")
        figures["fastest_lap_s"] = duration_seconds(visible) if visible else None
    return figures, fastest_number


def _published(
    table: dict[str, float | None], block: dict[str, Any] | None
) -> tuple[dict[str, float | None], str | None]:
    """LiveRC's figures (the 3-decimal lap-data values, else the table's) and the first disagreement
    between the two: a figure one of them prints and the other does not, or prints differently.

    ``table`` holds a key for each statistic column the table has (None where the cell is blank).
    """
    figures = {name: table.get(name) for name in _LABELS}
    for key, name in _JS_STATS.items():
        value = optional_float(str(block.get(key) or "")) if block else None
        if block is not None and name in table:
            shown = table[name]
            tolerance = TWO_DECIMALS_TOLERANCE if name in _TWO_DECIMALS else TIME_TOLERANCE_S
            if (shown is None) != (value is None):
                printed, blank = (
                    ("the results table", "the lap data")
                    if value is None
                    else ("the lap data", "the results table")
                )
                return figures, f"{printed} shows a figure for {_LABELS[name]} that {blank} leaves blank"
            if shown is not None and value is not None and abs(shown - value) > tolerance:
                return (
                    figures,
                    f"the results table shows {_LABELS[name]} {shown:g} but the lap data {value:g}",
                )
        if value is not None:
            figures[name] = value
    return figures, None


def _driver(
    race_id: int,
    index: int,
    row: HtmlElement,
    driver_id: int,
    block: dict[str, Any] | None,
    columns: dict[str, int],
) -> DriverResult:
    """One results row with its lap-data block; refuses a row that disagrees with its lap data."""
    cells = child_cells(row)
    if len(cells) < len(columns):
        raise Missing(f"cells in results row {index + 1} ({len(cells)} of {len(columns)})")
    driver_cell = cells[columns["driver"]]
    name = _row_name(row) or text_without_hidden(driver_cell)
    if not name:
        raise Missing(f"driver name in results row {index + 1}")

    def refuse(problem: str) -> Implausible:
        return Implausible(
            f"race {race_id}, driver {name} ({driver_id}): {problem}", race_id, driver_id, name
        )

    listed_name = clean(str(block.get("driverName", ""))) if block else ""
    if listed_name and _name_key(listed_name) != _name_key(name):
        raise refuse(f"the results table names {name!r} but the lap data {listed_name!r}")
    position = optional_int(cells[columns["pos"]].text_content())
    if position is None:
        raise Missing(f"position of {name!r}")
    if position != index + 1:
        raise refuse(f"results row {index + 1} shows position {position}")
    laps, grid = _laps(block)
    laps_completed, total = laps_and_time(cells[columns["laps/time"]].text_content())
    table, fastest_number = _table_figures(cells, columns)
    figures, disagreement = _published(table, block)
    if disagreement:
        raise refuse(disagreement)
    qual, behind = columns.get("qual"), columns.get("behind")
    car = first(_CAR(driver_cell))
    return DriverResult(
        driver_id=driver_id,
        driver_name=name,
        position=position,
        laps_completed=laps_completed,
        total_time_s=total,
        car_number=text_of(car) or None,
        qual_position=optional_int(cells[qual].text_content()) if qual is not None else None,
        grid_position=grid,
        behind_text=text_of(cells[behind]) or None if behind is not None else None,
        fastest_lap_number=fastest_number,
        laps=laps,
        **figures,
    )


def _refuse_implausible(race: RaceResult) -> None:
    findings = race_findings(race)
    if findings:
        finding = findings[0]
        raise Implausible(finding.where(), race.race_id, finding.driver_id, finding.driver_name)


@guarded("race")
def parse_race(html: str | bytes, race_id: int, *, url: str | None = None) -> RaceResult:
    """Drivers in finishing order, each with LiveRC's published figures and their laps.

    The table and the lap data state the drivers, names, statistics and (through the lap times and the
    Laps/Time cell) the laps twice; any disagreement refuses the page rather than storing a smaller or
    different race.
    """
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
    if not rows:
        raise Missing("driver rows in the results table")
    ids = _driver_ids(rows, blocks)
    _same_drivers(race_id, rows, ids, blocks)
    drivers = [
        _driver(race_id, index, row, driver_id, blocks.get(driver_id), columns)
        for index, (row, driver_id) in enumerate(zip(rows, ids, strict=True))
    ]
    sub_headers = [text_of(n) for n in _SUB_HEADERS(table)]
    round_label = next(
        (s.partition(":")[2].strip() for s in sub_headers if s.lower().startswith("round:")), ""
    )
    length = next((s.partition(":")[2].strip() for s in sub_headers if s.lower().startswith("length:")), "")
    race = RaceResult(
        race_id=race_id,
        class_header=text_of(first(_CLASS_HEADER(table))) or None,
        round_label=round_label or None,
        length_label=length or None,
        race_number=optional_int(text_of(first(_RACE_NUM(table)))),
        drivers=tuple(drivers),
    )
    _refuse_implausible(race)
    return race
