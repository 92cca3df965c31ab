"""The coach's readings say only what the figures say (pure functions, made-up figures)."""

from __future__ import annotations

from decimal import Decimal as D

from mre_pipeline.coach import readings


def _phase(mean: str, clean: str, incidents: int, position: int, gap: str) -> dict:
    return {
        "mean_lap_s": D(mean),
        "clean_mean_lap_s": D(clean),
        "incident_laps": incidents,
        "position_at_phase_end": position,
        "gap_to_leader_at_phase_end_s": D(gap),
    }


def test_drop_off_split_into_clean_pace_and_incidents() -> None:
    text = readings.drop_off_reading(
        20,
        _phase("38.000", "37.900", 1, 2, "1.500"),
        _phase("39.800", "38.600", 3, 4, "9.250"),
        {"first_third_avg_s": D("38.100"), "last_third_avg_s": D("39.900"), "drop_off_s": D("1.800")},
    )
    assert "your mean lap was 1.800 s slower than up to lap 20 (39.800 s against 38.000 s)" in text
    assert "clean laps (within 2 s of your own median) were 0.700 s slower" in text
    assert "3 incident laps after lap 20 (against 1 before) account for +1.100 s of the change" in text
    assert "Most of the fall-off is in your clean pace itself" not in text  # 0.7 s < 1.1 s from incidents
    assert "the incidents cost you most" in text
    assert "P2 after lap 20 (1.500 s behind the leader) and P4 at your last lap (9.250 s behind" in text
    assert "last-third average (39.900 s) was 1.800 s slower than your first third (38.100 s)" in text


def test_drop_off_when_clean_pace_falls() -> None:
    text = readings.drop_off_reading(
        10, _phase("38.000", "38.000", 0, 1, "0"), _phase("38.900", "38.800", 1, 1, "0")
    )
    assert "0.800 s slower" in text and "Most of the fall-off is in your clean pace itself" in text
    assert "P1 after lap 10 (leading)" in text


def test_opening_against_the_leader() -> None:
    laps = [
        {
            "lap_number": 1,
            "cumulative_time_s": D("45.0"),
            "position": 3,
            "lap_delta_s": D("1.500"),
            "leader_name": "A",
            "gap_to_leader_s": D("1.500"),
        },
        {
            "lap_number": 2,
            "cumulative_time_s": D("84.0"),
            "position": 2,
            "lap_delta_s": D("-0.500"),
            "leader_name": "A",
            "gap_to_leader_s": D("1.000"),
        },
    ]
    text = readings.opening_reading(300, laps)
    assert "In the first 300 s you completed 2 laps; after lap 2 (84.000 s) you were P2" in text
    assert "1.000 s behind the leader (A)" in text
    assert "0.500 s slower on average" in text and "matched or beat the leader's lap 1 of 2 times" in text
    assert "costliest lap was lap 1, 1.500 s slower than A's" in text
    assert readings.opening_reading(120, []) == "You completed no lap within the first 120 s of the race."


def test_year_on_year_consistency() -> None:
    years = [
        {
            "race_year": 2024,
            "consistency_pct": D("90.500"),
            "laps": 80,
            "races": 2,
            "consistency_change_pct": None,
        },
        {
            "race_year": 2025,
            "consistency_pct": D("92.000"),
            "laps": 47,
            "races": 1,
            "consistency_change_pct": D("1.500"),
        },
    ]
    text = readings.year_reading("track", 2025, years)
    assert "In 2025 at track your consistency was 92.00 % over 47 laps (1 race)" in text
    assert "1.50 points up from 90.50 % in 2024: you are more consistent" in text
    assert "no races at track in 2026" in readings.year_reading("track", 2026, years[1:])
    assert "no races there in 2024" in readings.year_reading("track", 2025, years[1:])
