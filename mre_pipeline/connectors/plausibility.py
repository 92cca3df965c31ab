"""What no genuine result can look like: source-neutral rules on the records of ``records.py``.

Parsers run these on what they produced (and raise, naming the page), and ingestion validation runs them
again on whatever a connector returned. Each rule holds on every captured LiveRC page and on the generated
site; each finding names the race and the driver.

Tolerances. LiveRC prints every time to the millisecond (lap times with trailing zeros stripped, totals
and statistics with three decimals) and its Laps/Time total equals the sum of the printed lap times
exactly (checked on every driver of the captured races). Two printed times can therefore differ only by
float representation (~1e-12), or by one unit in the last place if LiveRC rounded two values separately:
``TIME_TOLERANCE_S`` (1 ms plus float slack) allows that and nothing more. A sum of many laps is compared
with ``TOTAL_TIME_TOLERANCE_S`` (also 1 ms: the sums are exact, so a dropped digit in one lap is caught).
Percentages and standard deviations printed to two decimals are compared with 0.005 (half a unit).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from mre_pipeline.connectors.records import DriverResult, EventDetail, EventSummary, RaceResult

FLOAT_SLACK = 1e-6
TIME_TOLERANCE_S = 0.001 + FLOAT_SLACK
TOTAL_TIME_TOLERANCE_S = 0.001 + FLOAT_SLACK
TWO_DECIMALS_TOLERANCE = 0.005 + FLOAT_SLACK


@dataclass(frozen=True)
class Finding:
    """One thing that cannot be right, and where it is."""

    text: str
    race_id: int | None = None
    driver_id: int | None = None
    driver_name: str | None = None

    def where(self, race_label: str | None = None) -> str:
        """``race 5001 (label), driver NAME (id): text``; the parts that apply."""
        parts = []
        if self.race_id is not None or race_label:
            parts.append(race_label or f"race {self.race_id}")
        if self.driver_id is not None:
            parts.append(f"driver {self.driver_name} ({self.driver_id})")
        return f"{', '.join(parts)}: {self.text}" if parts else self.text

    def __str__(self) -> str:
        return self.where()


# -- races ---------------------------------------------------------------------------------------------------
def race_findings(race: RaceResult) -> list[Finding]:
    """Everything wrong with one race result: the field as a whole, then each driver."""
    if not race.drivers:
        return [Finding("no drivers in the results table", race.race_id)]
    findings: list[Finding] = []
    field = len(race.drivers)
    positions = sorted(d.position for d in race.drivers)
    if positions != list(range(1, field + 1)):
        findings.append(Finding(f"positions are {positions}, expected 1..{field} each once", race.race_id))
    for driver_id, n in Counter(d.driver_id for d in race.drivers).items():
        if n > 1:
            findings.append(Finding(f"driver id {driver_id} appears {n} times", race.race_id))
    for driver in race.drivers:
        findings.extend(
            Finding(text, race.race_id, driver.driver_id, driver.driver_name)
            for text in driver_problems(driver, field)
        )
    return findings


def driver_problems(driver: DriverResult, field: int) -> list[str]:
    """What cannot be right in one driver's row of a race of ``field`` drivers."""
    problems: list[str] = []
    if driver.driver_id <= 0:
        problems.append(f"driver id {driver.driver_id} is not a positive number")
    problems.extend(_lap_problems(driver, field))
    problems.extend(_total_problems(driver))
    problems.extend(_fastest_lap_problems(driver))
    problems.extend(_statistics_problems(driver))
    # The grid slot (lap 0) is a place in this race's field; the Qual column is not checked: on qualifier
    # heats it may be a rank across the whole round.
    if driver.grid_position is not None and not 1 <= driver.grid_position <= field:
        problems.append(f"grid position {driver.grid_position} is outside 1..{field}")
    return problems


def _lap_problems(driver: DriverResult, field: int) -> list[str]:
    problems: list[str] = []
    if driver.laps_completed < 0:
        problems.append(f"{driver.laps_completed} laps completed")
    elif len(driver.laps) != driver.laps_completed:
        problems.append(
            f"{len(driver.laps)} lap rows but the Laps/Time cell says {driver.laps_completed} laps"
        )
    numbers = [lap.lap_number for lap in driver.laps]
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append(f"lap numbers are not contiguous from 1 (first gap after lap {_first_gap(numbers)})")
    bad_times = [lap.lap_number for lap in driver.laps if not lap.lap_time_s > 0]
    if bad_times:
        problems.append(f"non-positive lap times on laps {bad_times[:5]}")
    for lap in driver.laps:
        if lap.position is not None and not 1 <= lap.position <= field:
            problems.append(f"lap {lap.lap_number} position {lap.position} is outside 1..{field}")
            break
    return problems


def _total_problems(driver: DriverResult) -> list[str]:
    """The published total is the laps plus, where the source counts it, the time before lap 1
    (``lead_in_time_s``: Everlaps' run from the grid to the line)."""
    if driver.total_time_s is not None and not driver.total_time_s > 0:
        return [f"total time {driver.total_time_s:.3f} s is not positive"]
    if driver.laps and driver.total_time_s is None:
        return ["has laps but no total time"]
    timed = bool(driver.laps) or driver.lead_in_time_s is not None
    if not timed and driver.total_time_s is not None:
        return [f"no laps but a total time of {driver.total_time_s:.3f} s"]
    if timed and driver.total_time_s is not None:
        lead_in = driver.lead_in_time_s or 0.0
        total = sum(lap.lap_time_s for lap in driver.laps) + lead_in
        if abs(total - driver.total_time_s) > TOTAL_TIME_TOLERANCE_S:
            summed = (
                "lap times"
                if driver.lead_in_time_s is None
                else f"lap times and {lead_in:.3f} s before lap 1"
            )
            return [f"{summed} sum to {total:.3f} s but the total time is {driver.total_time_s:.3f} s"]
    return []


def _fastest_lap_problems(driver: DriverResult) -> list[str]:
    fastest, number = driver.fastest_lap_s, driver.fastest_lap_number
    if fastest is None:
        return []
    if not fastest > 0:
        return [f"published fastest lap {fastest:.3f} s is not positive"]
    if not driver.laps:
        return [f"a published fastest lap of {fastest:.3f} s but no laps"]
    times = [lap.lap_time_s for lap in driver.laps]
    best = min(times)
    if fastest < best - TIME_TOLERANCE_S:
        return [f"published fastest lap {fastest:.3f} s is faster than the best lap driven, {best:.3f} s"]
    if fastest > max(times) + TIME_TOLERANCE_S:
        return [f"published fastest lap {fastest:.3f} s is slower than every lap driven"]
    if number is not None:
        if not 1 <= number <= len(times):
            return [f"published fastest lap number {number} is outside laps 1..{len(times)}"]
        if abs(times[number - 1] - fastest) > TIME_TOLERANCE_S:
            return [
                f"published fastest lap {fastest:.3f} s is not the time of lap {number} ({times[number - 1]:.3f} s)"
            ]
    return []


def _statistics_problems(driver: DriverResult) -> list[str]:
    """Published averages lie within the laps driven (whichever laps LiveRC counted); spreads are sane."""
    published = {
        "average lap": driver.avg_lap_s,
        "average of the best 5": driver.avg_top5_s,
        "average of the best 10": driver.avg_top10_s,
        "average of the best 15": driver.avg_top15_s,
    }
    present = {k: v for k, v in published.items() if v is not None}
    others = (driver.top3_consecutive_s, driver.std_deviation_s, driver.consistency_pct)
    if not driver.laps:
        if present or any(v is not None for v in others):
            return ["published lap statistics but no laps"]
        return []
    times = [lap.lap_time_s for lap in driver.laps]
    low, high = min(times) - TIME_TOLERANCE_S, max(times) + TIME_TOLERANCE_S
    problems = [
        f"{name} {value:.3f} s is outside the laps driven"
        for name, value in present.items()
        if not low <= value <= high
    ]
    consecutive = driver.top3_consecutive_s
    if consecutive is not None and not (3 * low <= consecutive <= 3 * high and len(times) >= 3):
        problems.append(f"best 3 consecutive laps {consecutive:.3f} s cannot come from these laps")
    if driver.std_deviation_s is not None and not 0 <= driver.std_deviation_s <= high - low:
        problems.append(f"standard deviation {driver.std_deviation_s:.3f} s cannot come from these laps")
    if driver.consistency_pct is not None and not 0 <= driver.consistency_pct <= 100:
        problems.append(f"consistency {driver.consistency_pct}% is outside 0..100")
    return problems


def _first_gap(numbers: list[int]) -> int:
    for expected, actual in enumerate(numbers, start=1):
        if actual != expected:
            return expected - 1
    return len(numbers)


# -- events --------------------------------------------------------------------------------------------------
def _counts_problems(entries: int | None, drivers: int | None) -> list[str]:
    if entries is not None and drivers is not None and drivers > entries:
        return [f"{drivers} drivers but only {entries} entries"]
    return []


def event_summary_problems(event: EventSummary) -> list[str]:
    """One row of an events listing."""
    problems: list[str] = []
    if event.event_id <= 0:
        problems.append(f"event id {event.event_id} is not a positive number")
    if event.end_date < event.start_date:
        problems.append(
            f"event {event.event_id} ends ({event.end_date}) before it starts ({event.start_date})"
        )
    problems.extend(f"event {event.event_id}: {p}" for p in _counts_problems(event.entries, event.drivers))
    return problems


def event_detail_problems(detail: EventDetail) -> list[str]:
    """The event page as a whole (its races are listed once each, with positive ids and numbers)."""
    problems: list[str] = []
    if detail.event_id <= 0:
        problems.append(f"event id {detail.event_id} is not a positive number")
    if detail.start_date and detail.end_date and detail.end_date < detail.start_date:
        problems.append(f"the event ends ({detail.end_date}) before it starts ({detail.start_date})")
    listed = Counter(r.race_id for r in detail.races)
    duplicates = sorted(rid for rid, n in listed.items() if n > 1)
    if duplicates:
        problems.append(f"event {detail.event_id} lists race ids more than once: {duplicates}")
    bad_ids = sorted(rid for rid in listed if rid <= 0)
    if bad_ids:
        problems.append(f"race ids {bad_ids} are not positive numbers")
    bad_numbers = [r.race_id for r in detail.races if r.race_number <= 0]
    if bad_numbers:
        problems.append(f"races {bad_numbers} have a race number below 1")
    problems.extend(_counts_problems(detail.entries, detail.drivers))
    return problems
