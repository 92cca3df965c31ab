"""Small hand-built events for tests that need exact control (corrections, bad data, idempotency)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from mre_pipeline.connectors.records import (
    DriverResult,
    EntryList,
    EntryRecord,
    EventDetail,
    LapRecord,
    RaceResult,
    RaceSummary,
)


def driver(
    driver_id: int, name: str, position: int, lap_times: list[float], grid: int | None = None
) -> DriverResult:
    laps = tuple(
        LapRecord(lap_number=i, lap_time_s=t, position=position) for i, t in enumerate(lap_times, start=1)
    )
    total = round(sum(lap_times), 3) if lap_times else None
    return DriverResult(
        driver_id=driver_id,
        driver_name=name,
        position=position,
        laps_completed=len(lap_times),
        total_time_s=total,
        car_number=str(position),
        qual_position=grid or position,
        grid_position=grid or position if lap_times else None,
        fastest_lap_s=min(lap_times) if lap_times else None,
        fastest_lap_number=(lap_times.index(min(lap_times)) + 1) if lap_times else None,
        laps=laps,
    )


def small_event(
    slug: str = "testtrack", event_id: int = 1001
) -> tuple[EventDetail, list[RaceResult], EntryList]:
    """Two races, four drivers, one non-starter, an O'Name and a non-ASCII name."""
    race_a = RaceResult(
        race_id=5001,
        class_header="2WD Buggy A-Main",
        round_label="Main Events",
        length_label="5:00 Timed",
        race_number=2,
        drivers=(
            driver(11, "ANNA O'CONNOR", 1, [30.5, 29.75, 29.9]),
            driver(12, "JÖRG MÜLLER", 2, [31.0, 30.25, 30.1]),
            driver(13, "LEE DNS", 3, []),
        ),
    )
    race_b = RaceResult(
        race_id=5002,
        class_header="4WD Buggy A-Main",
        round_label="Main Events",
        length_label="5:00 Timed",
        race_number=1,
        drivers=(
            driver(12, "JÖRG MÜLLER", 1, [28.0, 27.5]),
            driver(14, "SAM & CO", 2, [29.0]),
        ),
    )
    detail = EventDetail(
        source="liverc",
        track_slug=slug,
        event_id=event_id,
        name="Club Round 1",
        track_name="Test Track",
        start_date=date(2025, 3, 1),
        end_date=date(2025, 3, 2),
        races=(
            RaceSummary(
                5001, "Main Events", 2, "2WD Buggy", "2WD Buggy A-Main", datetime(2025, 3, 2, 15, 30)
            ),
            RaceSummary(5002, "Main Events", 1, "4WD Buggy", "4WD Buggy A-Main", datetime(2025, 3, 2, 15, 0)),
        ),
        entries=4,
        drivers=4,
    )
    entries = EntryList(
        event_id=event_id,
        entries=(
            EntryRecord("2WD Buggy", "ANNA O'CONNOR", 1, "O'CONNOR, ANNA", "1234567"),
            EntryRecord("2WD Buggy", "JÖRG MÜLLER", 2, "MÜLLER, JÖRG", "7654321"),
            EntryRecord("4WD Buggy", "JÖRG MÜLLER", 1, "MÜLLER, JÖRG", "7654321"),
        ),
    )
    return detail, [race_a, race_b], entries


def with_driver(race: RaceResult, index: int, **changes) -> RaceResult:
    drivers = list(race.drivers)
    drivers[index] = replace(drivers[index], **changes)
    return replace(race, drivers=tuple(drivers))
