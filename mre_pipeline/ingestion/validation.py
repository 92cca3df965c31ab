"""Validate a fetched event before anything is written; every message names the race and the driver."""

from __future__ import annotations

from collections import Counter

from mre_pipeline.connectors.records import DriverResult, EventDetail, RaceResult

# A published total is the sum of the lap times plus, where the source counts it, the time before lap 1
# (DriverResult.lead_in_time_s: Everlaps' run from the grid to the line), to the millisecond; allow
# rounding slack only.
TOTAL_TIME_TOLERANCE_S = 0.05


class EventValidationError(ValueError):
    """The fetched event is inconsistent; nothing may be written."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = "; ".join(problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"validation failed: {shown}{more}")


def validate_event(detail: EventDetail, races: list[RaceResult]) -> None:
    problems: list[str] = []
    listed = [r.race_id for r in detail.races]
    duplicates = sorted(rid for rid, n in Counter(listed).items() if n > 1)
    if duplicates:
        problems.append(f"event {detail.event_id} lists race ids more than once: {duplicates}")
    fetched = {r.race_id for r in races}
    missing = [rid for rid in dict.fromkeys(listed) if rid not in fetched]
    if missing:
        problems.append(f"races listed on the event page but not fetched: {missing}")
    extra = sorted(fetched - set(listed))
    if extra:
        problems.append(f"races fetched but not listed on the event page: {extra}")
    labels = {r.race_id: f"race {r.race_id} ({r.session_label})" for r in detail.races}
    for race in races:
        problems.extend(_race_problems(race, labels.get(race.race_id, f"race {race.race_id}")))
    if problems:
        raise EventValidationError(problems)


def _race_problems(race: RaceResult, label: str) -> list[str]:
    problems: list[str] = []
    if not race.drivers:
        return [f"{label}: no drivers in the results table"]
    positions = sorted(d.position for d in race.drivers)
    if positions != list(range(1, len(race.drivers) + 1)):
        problems.append(f"{label}: positions are {positions}, expected 1..{len(race.drivers)} each once")
    driver_ids = Counter(d.driver_id for d in race.drivers)
    for driver_id, n in driver_ids.items():
        if n > 1:
            problems.append(f"{label}: driver id {driver_id} appears {n} times")
    for driver in race.drivers:
        problems.extend(
            f"{label}, driver {driver.driver_name} ({driver.driver_id}): {p}"
            for p in _driver_problems(driver)
        )
    return problems


def _driver_problems(driver: DriverResult) -> list[str]:
    problems: list[str] = []
    if len(driver.laps) != driver.laps_completed:
        problems.append(
            f"{len(driver.laps)} lap rows but the Laps/Time cell says {driver.laps_completed} laps"
        )
    numbers = [lap.lap_number for lap in driver.laps]
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append(f"lap numbers are not contiguous from 1 (first gap after lap {_first_gap(numbers)})")
    bad = [lap.lap_number for lap in driver.laps if not lap.lap_time_s > 0]
    if bad:
        problems.append(f"non-positive lap times on laps {bad[:5]}")
    if driver.laps and driver.total_time_s is not None:
        lead_in = driver.lead_in_time_s or 0.0
        total = sum(lap.lap_time_s for lap in driver.laps) + lead_in
        if abs(total - driver.total_time_s) > TOTAL_TIME_TOLERANCE_S:
            summed = (
                "lap times"
                if driver.lead_in_time_s is None
                else f"lap times and {lead_in:.3f} s before lap 1"
            )
            problems.append(
                f"{summed} sum to {total:.3f} s but the total time is {driver.total_time_s:.3f} s"
            )
    elif driver.laps and driver.total_time_s is None:
        problems.append("has laps but no total time")
    return problems


def _first_gap(numbers: list[int]) -> int:
    for expected, actual in enumerate(numbers, start=1):
        if actual != expected:
            return expected - 1
    return len(numbers)
