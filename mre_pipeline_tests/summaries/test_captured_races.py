"""The summaries over the two captured LiveRC races, checked against ground_truth.json."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from mre_pipeline.warehouse.coaching_queries import (
    CONSISTENCY_BY_YEAR,
    LAP_TIME_DROP_OFF,
    VERSUS_LEADER_OPENING,
)
from mre_pipeline_tests.summaries.captured import SLUG, load_captured_event
from mre_pipeline_tests.summaries.conftest import dbt_build_ok, rows

pytestmark = pytest.mark.liverc_pages
FELIX = 346997


@pytest.fixture(scope="module")
def captured(liverc_pages: Path, summaries_db: str, summaries_engine: sa.Engine) -> Iterator[sa.Engine]:
    load_captured_event(summaries_engine, liverc_pages)
    output = dbt_build_ok(summaries_db)
    assert "ERROR=0" in output and "WARN=0" in output
    yield summaries_engine


@pytest.fixture(scope="module")
def truth(liverc_pages: Path) -> dict:
    return json.loads((liverc_pages / "ground_truth.json").read_text())["race_results"]


def test_driver_race_summary_rows_and_felix(captured: sa.Engine, truth: dict) -> None:
    assert rows(captured, "SELECT count(*) AS n FROM mre_summaries.driver_race_summary") == [
        {"n": sum(r["n_drivers_table"] for r in truth.values())}
    ]
    [felix] = rows(
        captured,
        "SELECT * FROM mre_summaries.driver_race_summary WHERE source_race_id = 6304829 AND source_driver_id = :d",
        d=FELIX,
    )
    assert (felix["driver_name"], felix["laps"], felix["total_time_s"]) == (
        "FELIX KOEGLER",
        47,
        Decimal("1831.382"),
    )
    assert felix["best_lap_s"] == felix["published_fastest_lap_s"] == Decimal("37.234")
    assert (felix["finish_position"], felix["grid_position"], felix["gap_to_winner_s"]) == (1, 1, 0)
    assert felix["track_slug"] == SLUG and felix["source_event_id"] == 486677


def test_every_driver_matches_ground_truth(captured: sa.Engine, truth: dict) -> None:
    for race_id, race in truth.items():
        got = {
            r["source_driver_id"]: r
            for r in rows(
                captured,
                "SELECT * FROM mre_summaries.driver_race_summary WHERE source_race_id = :r",
                r=int(race_id),
            )
        }
        for d in race["drivers"]:
            if not d.get("table_data_driver_id"):
                continue
            row = got[int(d["table_data_driver_id"])]
            assert row["laps"] == d["laps_excl_lap0"], d["driver_name"]
            assert row["finish_position"] == d["position"]
            if d["laps_excl_lap0"]:
                assert float(row["total_time_s"]) == pytest.approx(d["sum_lap_times"], abs=1e-9)
                assert row["best_lap_s"] == Decimal(d["min_lap_time_all_laps"])


def test_non_starters_have_zero_laps_and_null_statistics(captured: sa.Engine) -> None:
    non_starters = rows(captured, "SELECT * FROM mre_summaries.driver_race_summary WHERE laps = 0")
    assert non_starters, "both captured races have a non-starter"
    for row in non_starters:
        assert row["started"] is False
        for column in (
            "total_time_s",
            "best_lap_s",
            "mean_lap_s",
            "median_lap_s",
            "stddev_lap_s",
            "consistency_pct",
            "avg_top5_s",
            "drop_off_s",
            "gap_to_winner_s",
        ):
            assert row[column] is None, (row["driver_name"], column)


def test_lap_progression_rows_and_leader_gap(captured: sa.Engine, truth: dict) -> None:
    [stats] = rows(
        captured,
        """
        SELECT count(*) AS n,
               count(*) FILTER (WHERE position = 1) AS p1_laps,
               count(*) FILTER (WHERE position = 1 AND gap_to_leader_s <> 0) AS p1_nonzero,
               count(DISTINCT lap_number) AS lap_numbers
        FROM mre_summaries.lap_progression WHERE source_race_id = 6304829
        """,
    )
    assert stats["n"] == truth["6304829"]["total_laps_excl_lap0"] == 444
    assert stats["p1_nonzero"] == 0
    assert stats["p1_laps"] == stats["lap_numbers"] == 47  # one P1 on every lap


def test_coaching_queries_on_captured_race(captured: sa.Engine) -> None:
    phases = rows(
        captured,
        LAP_TIME_DROP_OFF,
        source="liverc",
        source_race_id=6304829,
        source_driver_id=FELIX,
        after_lap=20,
    )
    assert [(p["phase"], p["laps"]) for p in phases] == [("before", 20), ("after", 27)]
    opening = rows(
        captured,
        VERSUS_LEADER_OPENING,
        source="liverc",
        source_race_id=6304829,
        source_driver_id=298958,
        first_seconds=300,
    )
    assert 6 <= len(opening) <= 8 and all(r["cumulative_time_s"] <= 300 for r in opening)
    assert all(r["leader_name"] for r in opening)
    years = rows(
        captured, CONSISTENCY_BY_YEAR, source="liverc", source_driver_id=FELIX, track_slug=SLUG, year=2025
    )
    assert [(y["race_year"], y["races"], y["laps"]) for y in years] == [(2025, 1, 47)]
    assert years[0]["consistency_change_pct"] is None  # no earlier year at this track yet


def test_analyst_role_can_read_every_summary(captured: sa.Engine) -> None:
    grants = rows(
        captured,
        """
        SELECT c.relname, has_table_privilege('mre_analyst', c.oid, 'SELECT') AS can_read
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'mre_summaries' AND c.relkind IN ('r', 'v')
        """,
    )
    assert len(grants) == 14 and all(g["can_read"] for g in grants), grants
