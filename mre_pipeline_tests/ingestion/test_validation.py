"""Validation names the race and the driver, and catches each inconsistency the issue lists."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mre_pipeline.connectors.records import LapRecord
from mre_pipeline.ingestion.validation import EventValidationError, validate_event
from mre_pipeline_tests.records_factory import small_event, with_driver


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


def test_a_counted_lead_in_is_part_of_the_total() -> None:
    """Everlaps heats that count the run from the grid to the line: laps + lead-in = the published total."""
    detail, races, _ = small_event()
    races[0] = with_driver(races[0], 1, total_time_s=91.35 + 4.125, lead_in_time_s=4.125)
    validate_event(detail, races)
