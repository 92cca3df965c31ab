"""Small hand-built races with exact, known lap data for the summary edge cases.

Positions after each lap are ranked by cumulative time among the drivers who completed that lap, and
finishing order by laps then total time, as LiveRC does for timed races.
"""

from __future__ import annotations

from datetime import date, datetime

from mre_pipeline.connectors.records import DriverResult, EventDetail, LapRecord, RaceResult, RaceSummary

TRACK = "testtrack"


def build_race(race_id: int, entrants: list[tuple[int, str, list[float]]]) -> RaceResult:
    cumulative: dict[int, list[float]] = {}
    for driver_id, _, times in entrants:
        total, running = 0.0, []
        for t in times:
            total = round(total + t, 3)
            running.append(total)
        cumulative[driver_id] = running
    positions: dict[tuple[int, int], int] = {}
    max_laps = max(len(t) for _, _, t in entrants)
    for lap in range(1, max_laps + 1):
        done = sorted((cum[lap - 1], d) for d, cum in cumulative.items() if len(cum) >= lap)
        for pos, (_, d) in enumerate(done, start=1):
            positions[(d, lap)] = pos
    order = sorted(entrants, key=lambda e: (-len(e[2]), cumulative[e[0]][-1] if e[2] else 0, e[0]))
    drivers = []
    for finish, (driver_id, name, times) in enumerate(order, start=1):
        grid = 1 + [e[0] for e in entrants].index(driver_id)
        drivers.append(
            DriverResult(
                driver_id=driver_id,
                driver_name=name,
                position=finish,
                laps_completed=len(times),
                total_time_s=cumulative[driver_id][-1] if times else None,
                car_number=str(grid),
                qual_position=grid,
                grid_position=grid if times else None,
                fastest_lap_s=min(times) if times else None,
                laps=tuple(
                    LapRecord(lap_number=i, lap_time_s=t, position=positions[(driver_id, i)])
                    for i, t in enumerate(times, start=1)
                ),
            )
        )
    return RaceResult(race_id, "Buggy A-Main", "Main Events", "5:00 Timed", 1, tuple(drivers))


# 2024 event: a winner, a chaser who leads lap 1 and ties on cumulative time after lap 2, an all-equal-laps driver (ties), a single-lap driver and a
# non-starter. 2025 event at the same track: the winner again, to compare years.
RACE_2024 = [
    (101, "ANNA WINNER", [30.0, 29.0, 29.5, 28.0, 31.0, 30.0, 28.5, 29.25, 30.5, 28.75, 29.0, 33.0]),
    (102, "BEN CHASER", [29.0, 30.0, 30.0, 29.0, 30.5, 29.5, 29.75, 30.25, 31.0, 29.5, 30.0, 31.0]),
    (103, "CARL STEADY", [32.0] * 11),
    (104, "DAN ONELAP", [35.5]),
    (105, "EVE NONSTARTER", []),
]
RACE_2025 = [
    (101, "ANNA WINNER", [29.0, 28.5, 28.75, 28.6, 28.9, 29.1]),
    (102, "BEN CHASER", [29.5, 29.5, 29.0, 29.25, 29.75, 29.5]),
]


def synthetic_events() -> list[tuple[EventDetail, list[RaceResult]]]:
    events = []
    for event_id, race_id, entrants, day in (
        (9001, 7001, RACE_2024, date(2024, 5, 4)),
        (9002, 7002, RACE_2025, date(2025, 5, 3)),
    ):
        detail = EventDetail(
            source="liverc",
            track_slug=TRACK,
            event_id=event_id,
            name=f"Club Day {day.year}",
            track_name="Test Track",
            start_date=day,
            end_date=day,
            races=(
                RaceSummary(
                    race_id,
                    "Main Events",
                    1,
                    "Buggy",
                    "Buggy A-Main",
                    datetime(day.year, day.month, day.day, 15, 0),
                ),
            ),
        )
        events.append((detail, [build_race(race_id, entrants)]))
    return events
