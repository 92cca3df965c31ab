"""Validation names the race and the driver, and catches each inconsistency the issue lists."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from mre_pipeline.connectors.records import EventSummary, LapRecord
from mre_pipeline.ingestion.validation import EventValidationError, validate_event, validate_event_listing
from mre_pipeline_tests.records_factory import small_event, with_driver

ANNA = "race 5001 (2WD Buggy A-Main), driver ANNA O'CONNOR (11): "
LEE = "race 5001 (2WD Buggy A-Main), driver LEE DNS (13): "
ANNA_LAPS = (LapRecord(1, 30.5, 1), LapRecord(2, 29.75, 1), LapRecord(3, 29.9, 1))


def test_consistent_event_passes() -> None:
    detail, races, _ = small_event()
    validate_event(detail, races)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda r: with_driver(r, 1, position=1),
            r"race 5001 \(2WD Buggy A-Main\): positions are \[1, 1, 3\]",
        ),
        (
            lambda r: with_driver(r, 0, laps_completed=4),
            r"race 5001 .*driver ANNA O'CONNOR \(11\): 3 lap rows but the Laps/Time cell says 4 laps",
        ),
        (
            lambda r: with_driver(r, 0, laps=(LapRecord(1, 30.5), LapRecord(3, 29.75), LapRecord(4, 29.9))),
            r"ANNA O'CONNOR \(11\): lap numbers are not contiguous from 1 \(first gap after lap 1\)",
        ),
        (
            lambda r: with_driver(r, 0, laps=(LapRecord(1, 30.5), LapRecord(2, 0.0), LapRecord(3, 29.9))),
            r"ANNA O'CONNOR \(11\): non-positive lap times on laps \[2\]",
        ),
        (
            lambda r: with_driver(r, 1, total_time_s=95.0),
            r"JÖRG MÜLLER \(12\): lap times sum to 91.350 s but the total time is 95.000 s",
        ),
        (
            lambda r: with_driver(r, 1, total_time_s=95.0, lead_in_time_s=2.5),
            r"JÖRG MÜLLER \(12\): lap times and 2.500 s before lap 1 sum to 93.850 s but the total time is 95.000 s",
        ),
        (lambda r: with_driver(r, 1, driver_id=11), r"race 5001 .*: driver id 11 appears 2 times"),
    ],
)
def test_each_violation_is_reported(mutate, expected: str) -> None:
    detail, races, _ = small_event()
    races[0] = mutate(races[0])
    with pytest.raises(EventValidationError, match=expected):
        validate_event(detail, races)


def test_missing_and_duplicate_races() -> None:
    detail, races, _ = small_event()
    with pytest.raises(EventValidationError, match=r"not fetched: \[5002\]"):
        validate_event(detail, races[:1])
    doubled = replace(detail, races=detail.races + detail.races[:1])
    with pytest.raises(EventValidationError, match=r"lists race ids more than once: \[5001\]"):
        validate_event(doubled, races)


def _only_problem(mutate) -> EventValidationError:
    detail, races, _ = small_event()
    races[0] = mutate(races[0])
    with pytest.raises(EventValidationError) as err:
        validate_event(detail, races)
    return err.value


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda r: with_driver(r, 0, laps=(ANNA_LAPS[0], LapRecord(2, 29.75, 152738), ANNA_LAPS[2])),
            ANNA + "lap 2 position 152738 is outside 1..3",
        ),
        (lambda r: with_driver(r, 0, grid_position=4), ANNA + "grid position 4 is outside 1..3"),
        (
            lambda r: with_driver(r, 0, fastest_lap_s=0.0, fastest_lap_number=None),
            ANNA + "published fastest lap 0.000 s is not positive",
        ),
        (
            lambda r: with_driver(r, 0, fastest_lap_s=29.7, fastest_lap_number=None),
            ANNA + "published fastest lap 29.700 s is faster than the best lap driven, 29.750 s",
        ),
        (
            lambda r: with_driver(r, 0, fastest_lap_s=31.0, fastest_lap_number=None),
            ANNA + "published fastest lap 31.000 s is slower than every lap driven",
        ),
        (
            lambda r: with_driver(r, 0, fastest_lap_number=1),
            ANNA + "published fastest lap 29.750 s is not the time of lap 1 (30.500 s)",
        ),
        (
            lambda r: with_driver(r, 0, fastest_lap_number=4),
            ANNA + "published fastest lap number 4 is outside laps 1..3",
        ),
        (
            lambda r: with_driver(r, 0, total_time_s=90.152),
            ANNA + "lap times sum to 90.150 s but the total time is 90.152 s",
        ),
        (lambda r: with_driver(r, 0, total_time_s=-1.0), ANNA + "total time -1.000 s is not positive"),
        (lambda r: with_driver(r, 2, total_time_s=12.5), LEE + "no laps but a total time of 12.500 s"),
        (
            lambda r: with_driver(r, 2, fastest_lap_s=30.0),
            LEE + "a published fastest lap of 30.000 s but no laps",
        ),
        (lambda r: with_driver(r, 2, avg_lap_s=30.0), LEE + "published lap statistics but no laps"),
        (
            lambda r: with_driver(r, 0, avg_lap_s=40.0),
            ANNA + "average lap 40.000 s is outside the laps driven",
        ),
        (
            lambda r: with_driver(r, 0, avg_top5_s=20.0),
            ANNA + "average of the best 5 20.000 s is outside the laps driven",
        ),
        (
            lambda r: with_driver(r, 0, top3_consecutive_s=120.0),
            ANNA + "best 3 consecutive laps 120.000 s cannot come from these laps",
        ),
        (
            lambda r: with_driver(r, 0, std_deviation_s=5.0),
            ANNA + "standard deviation 5.000 s cannot come from these laps",
        ),
        (lambda r: with_driver(r, 0, consistency_pct=100.5), ANNA + "consistency 100.5% is outside 0..100"),
        (lambda r: with_driver(r, 2, laps_completed=-1), LEE + "-1 laps completed"),
        (
            lambda r: with_driver(r, 0, driver_id=0),
            "race 5001 (2WD Buggy A-Main), driver ANNA O'CONNOR (0): driver id 0 is not a positive number",
        ),
        (
            lambda r: replace(r, drivers=()),
            "race 5001 (2WD Buggy A-Main): no drivers in the results table",
        ),
    ],
)
def test_each_rule_refuses_with_its_exact_message(mutate, expected: str) -> None:
    error = _only_problem(mutate)
    assert error.problems == [expected]
    assert str(error) == f"validation failed: {expected}"


def test_findings_carry_the_race_and_the_driver() -> None:
    error = _only_problem(lambda r: with_driver(r, 0, fastest_lap_s=0.0, fastest_lap_number=None))
    finding = error.findings[0]
    assert (finding.race_id, finding.driver_id, finding.driver_name) == (5001, 11, "ANNA O'CONNOR")


def test_rounding_is_tolerated_and_nothing_more() -> None:
    detail, races, _ = small_event()
    races[0] = with_driver(races[0], 0, total_time_s=90.151, fastest_lap_s=29.749)  # 1 ms off: rounding
    validate_event(detail, races)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"end_date": date(2025, 2, 28)}, "the event ends (2025-02-28) before it starts (2025-03-01)"),
        ({"entries": 3, "drivers": 4}, "4 drivers but only 3 entries"),
        ({"event_id": 0}, "event id 0 is not a positive number"),
    ],
)
def test_event_rules(change: dict, expected: str) -> None:
    detail, races, _ = small_event()
    with pytest.raises(EventValidationError) as err:
        validate_event(replace(detail, **change), races)
    assert err.value.problems == [expected]


def test_race_numbers_below_one_are_refused() -> None:
    detail, races, _ = small_event()
    bad = replace(detail, races=(replace(detail.races[0], race_number=0), detail.races[1]))
    races[0] = replace(races[0], race_number=None)
    with pytest.raises(EventValidationError) as err:
        validate_event(bad, races)
    assert err.value.problems == ["races [5001] have a race number below 1"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"event_id": 0}, "event id 0 is not a positive number"),
        ({"end_date": date(2025, 1, 1)}, "event 7 ends (2025-01-01) before it starts (2025-03-01)"),
        ({"entries": 5, "drivers": 9}, "event 7: 9 drivers but only 5 entries"),
    ],
)
def test_event_listing_rules(change: dict, expected: str) -> None:
    row = EventSummary(
        "liverc", "t", 7, "Club Day", date(2025, 3, 1), date(2025, 3, 2), entries=10, drivers=8
    )
    validate_event_listing([row])
    with pytest.raises(EventValidationError) as err:
        validate_event_listing([replace(row, **change)])
    assert err.value.problems == [expected]


def test_a_counted_lead_in_is_part_of_the_total() -> None:
    """Everlaps heats that count the run from the grid to the line: laps + lead-in = the published total."""
    detail, races, _ = small_event()
    races[0] = with_driver(races[0], 1, total_time_s=91.35 + 4.125, lead_in_time_s=4.125)
    validate_event(detail, races)
