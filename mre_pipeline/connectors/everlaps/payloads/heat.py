"""One heat node (``/api/res/{event}/{path}``) -> RaceResult, and what a "lap" is for Everlaps.

What the capture of event 3702 shows (15 heats, 112 driver rows, 104 starters):

- ``lapsdetail`` holds one crossing of the timing line more than the published ``laps`` for every starter
  (104 of 104). Crossing 0 is not a lap: ``fastinlap`` counts from crossing 1 (the Final's driver with
  ``laps`` 1 has crossings 46.499 s and 79.767 s, ``fastest`` 79.767 s, ``fastinlap`` 1), and ``avg``,
  ``t3``/``t5``/``t10`` (means of the best 3/5/10) are computed over crossings 1..laps only (104 of 104).
- ``desc.countfirstlap`` false (the 9 qualifying heats, 60 starters): crossing 0 is the driver's own start
  trigger (staggered start); ``t`` is the wait from the heat's start, and ``time`` is the sum of crossings
  1..laps (60 of 60). The README's "sometimes the sum of all crossings (9 of 60)" are the 9 drivers whose
  crossing 0 has ``t`` = 0, for whom both sums are equal: there is no second rule. ``x`` restarts at the
  first crossing, which is why it is not the running sum of ``t`` in these heats.
- ``desc.countfirstlap`` true (consolation, semi-finals, final; 44 starters): crossing 0 is the run from the
  grid to the line, and ``time`` is the sum of all crossings (44 of 44); ``x`` is the running sum of ``t``.
- Non-starters publish ``laps`` -1 (no crossing) or 0 (at most one crossing; the semi-final driver whose
  only crossing came after 766.956 s has ``time`` 766956).

So an Everlaps lap is crossing 1..``laps``: ``LapRecord`` *n* is crossing *n* (its ``t`` in seconds, ``y``
as the position), the lap count is the published ``laps``, every published figure is kept as published
(``total_time_s`` = ``time``, fastest, average, best 3/5/10, ``reg`` as consistency), and the run to the
line that the total includes goes to ``DriverResult.lead_in_time_s`` (crossing 0's ``t`` when the heat
counts it, else None). Then ``sum(lap times) + (lead_in_time_s or 0) == total_time_s`` holds for every
starter of the capture, the same check LiveRC results pass with no lead-in.

Refused (typed error naming the URL, heat and driver): a node that is not a heat, a driver listed twice, a
crossing count that does not match ``laps``, a total that is not its laps plus the counted lead-in (to the
millisecond; ``startcorrection`` is 0 for every row of the capture, so no penalty rule is guessed), negative
or zero lap times, times beyond any race (over a million seconds), grid or lap positions outside the field,
a fastest lap outside the laps driven. Published statistics (fastest, averages, consistency) are not
recomputed or cross-checked: they are kept as Everlaps printed them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from mre_pipeline.connectors.everlaps.payloads.common import (
    MAX_MS,
    Bad,
    as_object,
    clean,
    context,
    get_bool,
    get_int,
    get_list,
    get_ms,
    get_object,
    get_percent,
    get_text,
    guard,
    require_int,
    shown,
)
from mre_pipeline.connectors.records import DriverResult, LapRecord, RaceResult, RaceSummary

DID_NOT_START = -1
MAX_LAPS = 100_000


def parse_heat(payload: Any, race: RaceSummary, *, url: str | None = None) -> RaceResult:
    """The heat ``race`` points at (its ``locator``), as a race result with every lap."""
    with guard(f'heat "{race.session_label}"', url):
        return _heat(as_object(payload, "the response"), race)


def _heat(node: dict[str, Any], race: RaceSummary) -> RaceResult:
    if "heatDuration" not in node:
        raise Bad("the results node is not a heat (it has no heat duration)")
    duration_ms = require_int(node, "heatDuration", "the heat duration", minimum=0, maximum=MAX_MS)
    desc = get_object(node, "desc", "the heat description")
    title = get_text(desc, "title", "the heat title", optional=True)
    lead_in_counted = get_bool(desc, "countfirstlap", "the first-lap rule")
    assert lead_in_counted is not None
    rows = get_list(node, "drivers", "the driver list")
    drivers = tuple(
        _driver(as_object(row, f"driver row {index}"), index, len(rows), lead_in_counted)
        for index, row in enumerate(rows, start=1)
    )
    repeated = sorted(d for d, n in Counter(d.driver_id for d in drivers).items() if n > 1)
    if repeated:
        raise Bad(f"driver {repeated[0]} is listed more than once")
    return RaceResult(
        race_id=race.race_id,
        class_header=title,
        round_label=title.rsplit(", ", 1)[0] if title else race.section,
        length_label=length_label(duration_ms),
        race_number=race.race_number,
        drivers=drivers,
        lead_in_counted=lead_in_counted,
    )


def length_label(duration_ms: int) -> str | None:
    """``300000`` -> ``5:00 Timed``, LiveRC's wording for a timed race; None for no duration."""
    if duration_ms <= 0:
        return None
    minutes, ms = divmod(duration_ms, 60_000)
    whole, fraction = divmod(ms, 1000)
    return f"{minutes}:{whole:02d}{f'.{fraction:03d}' if fraction else ''} Timed"


def driver_name(row: dict[str, Any]) -> str:
    """First name and surname as published (accents kept), whitespace normalised."""
    parts = [
        get_text(row, key, what, optional=True)
        for key, what in (("name", "the first name"), ("surname", "the surname"))
    ]
    name = clean(" ".join(p for p in parts if p))
    if not name:
        raise Bad("the driver has no name")
    return name


def _driver(row: dict[str, Any], position: int, field: int, lead_in_counted: bool) -> DriverResult:
    with context(f"driver row {position}"):
        driver_id = require_int(row, "driverid", "the driver id", minimum=1)
    with context(f"driver {driver_id}"):
        name = driver_name(row)
    with context(f"driver {driver_id} ({name})"):
        return _result(row, driver_id, name, position, field, lead_in_counted)


def _result(
    row: dict[str, Any], driver_id: int, name: str, position: int, field: int, lead_in_counted: bool
) -> DriverResult:
    published_laps = require_int(row, "laps", "the lap count", minimum=DID_NOT_START, maximum=MAX_LAPS)
    laps_completed = max(published_laps, 0)
    crossings = get_list(row, "lapsdetail", "the lap grid", optional=True)
    if laps_completed and len(crossings) != laps_completed + 1:
        raise Bad(
            f"the lap grid has {len(crossings)} crossings of the line, but {laps_completed} laps need "
            f"{laps_completed + 1} (the first crossing starts lap 1)"
        )
    if not laps_completed and len(crossings) > 1:
        raise Bad(f"the lap grid has {len(crossings)} crossings of the line for a driver with no lap")
    lead_in_ms, laps, laps_ms = _crossings(crossings, field)
    total_ms = require_int(row, "time", "the total time", minimum=0, maximum=MAX_MS)
    _check_total(row, total_ms, len(laps), laps_ms, lead_in_ms if lead_in_counted else None)
    fastest_lap_number = get_int(row, "fastinlap", "the fastest lap number", minimum=1, optional=True)
    if fastest_lap_number is not None and fastest_lap_number > laps_completed:
        raise Bad(f"the fastest lap is lap {fastest_lap_number} of {laps_completed}")
    grid = get_int(row, "grid", "the grid position", minimum=1, optional=True)
    if grid is not None and grid > field:
        raise Bad(f"the grid position {grid} is outside a field of {field}")
    return DriverResult(
        driver_id=driver_id,
        driver_name=name,
        position=position,
        laps_completed=laps_completed,
        total_time_s=total_ms / 1000 if total_ms else None,
        car_number=_car_number(row),
        grid_position=grid,
        fastest_lap_s=get_ms(row, "fastest", "the fastest lap", positive=True, optional=True),
        fastest_lap_number=fastest_lap_number,
        avg_lap_s=get_ms(row, "avg", "the average lap", positive=True, optional=True),
        avg_top3_s=get_ms(row, "t3", "the best-3 average", positive=True, optional=True),
        avg_top5_s=get_ms(row, "t5", "the best-5 average", positive=True, optional=True),
        avg_top10_s=get_ms(row, "t10", "the best-10 average", positive=True, optional=True),
        consistency_pct=get_percent(row, "reg", "the consistency"),
        laps=laps,
        lead_in_time_s=lead_in_ms / 1000 if lead_in_counted and lead_in_ms is not None else None,
    )


def _check_total(row: dict[str, Any], total_ms: int, laps: int, laps_ms: int, lead_in_ms: int | None) -> None:
    """The published total is the laps plus, when the heat counts it, the run to the line: in integer ms.

    Holds for all 112 rows of the capture; a total that disagrees (a time penalty the payload does not
    explain, a corrupted lap) is refused here with the numbers, rather than stored inconsistent.
    """
    expected = laps_ms + (lead_in_ms or 0)
    if total_ms == expected:
        return
    parts = f"{laps} laps of {laps_ms / 1000} s" + (
        f" plus {lead_in_ms / 1000} s to the line before lap 1" if lead_in_ms else ""
    )
    correction = row.get("startcorrection")
    note = f" (start correction {shown(correction)} ms)" if correction not in (None, 0) else ""
    raise Bad(f"the published total {total_ms / 1000} s is not its {parts}{note}")


def _crossings(crossings: list[Any], field: int) -> tuple[int | None, tuple[LapRecord, ...], int]:
    """Crossing 0's time in ms (None without crossings), crossings 1.. as laps 1.., and their sum in ms."""
    lead_in_ms: int | None = None
    laps: list[LapRecord] = []
    laps_ms = 0
    for number, raw in enumerate(crossings):
        with context(f"lap {number}" if number else "the first crossing (before lap 1)"):
            crossing = as_object(raw, "the crossing")
            time_ms = require_int(crossing, "t", "the time", minimum=0 if number == 0 else 1, maximum=MAX_MS)
            place = get_int(crossing, "y", "the position", minimum=1, optional=True)
            if place is not None and place > field:
                raise Bad(f"the position {place} is outside a field of {field}")
        if number == 0:
            lead_in_ms = time_ms
        else:
            laps.append(LapRecord(lap_number=number, lap_time_s=time_ms / 1000, position=place))
            laps_ms += time_ms
    return lead_in_ms, tuple(laps), laps_ms


def _car_number(row: dict[str, Any]) -> str | None:
    value = row.get("carnumber")
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise Bad(f"the car number is negative ({value})")
        return str(value)
    if isinstance(value, str):
        return clean(value) or None
    raise Bad(f"the car number is neither a number nor text (got {shown(value)})")
