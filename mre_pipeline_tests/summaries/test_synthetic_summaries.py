"""dbt build on hand-built races: every summary figure checked against a Python recomputation.

Covers the edge cases real pages rarely show together: a non-starter, a single-lap driver, a driver
whose laps are all equal (ties in every ranking) and the same driver at one track in two years.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal

import pytest
import sqlalchemy as sa

from mre_pipeline import settings
from mre_pipeline.warehouse.coaching_queries import (
    COACHING_QUERIES,
    CONSISTENCY_BY_YEAR,
    LAP_TIME_DROP_OFF,
    VERSUS_LEADER_OPENING,
)
from mre_pipeline.warehouse.event_results import write_event
from mre_pipeline_tests.summaries.conftest import dbt_build_ok, rows
from mre_pipeline_tests.summaries.synthetic import RACE_2024, RACE_2025, TRACK, synthetic_events

MS = Decimal("0.001")


def r3(x: float | Decimal) -> Decimal:
    """Round like Postgres numeric (half away from zero), not like Python floats (half to even)."""
    return Decimal(str(x)).quantize(MS, ROUND_HALF_UP)


def mean3(times: list[float]) -> Decimal:
    """Exact decimal mean, rounded like the models."""
    return r3(sum(Decimal(str(t)) for t in times) / len(times))


@pytest.fixture(scope="module")
def built(summaries_db: str, summaries_engine: sa.Engine) -> Iterator[sa.Engine]:
    with summaries_engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO mre.tracks (slug, name) VALUES (:s, 'Test Track')"), {"s": TRACK})
    for detail, races in synthetic_events():  # one transaction per event, as the pipeline writes them
        with summaries_engine.begin() as conn:
            write_event(conn, detail, races, None)
    dbt_build_ok(summaries_db)
    yield summaries_engine


def summary(engine: sa.Engine, race: int, driver: int) -> dict:
    [row] = rows(
        engine,
        "SELECT * FROM mre_summaries.driver_race_summary WHERE source_race_id = :r AND source_driver_id = :d",
        r=race,
        d=driver,
    )
    return row


def test_one_row_per_result_in_exact_schema(built: sa.Engine) -> None:
    [[count]] = [
        list(r.values()) for r in rows(built, "SELECT count(*) FROM mre_summaries.driver_race_summary")
    ]
    assert count == len(RACE_2024) + len(RACE_2025)
    schemas = {
        r["table_schema"]
        for r in rows(
            built,
            "SELECT DISTINCT table_schema FROM information_schema.tables WHERE table_name = 'driver_race_summary'",
        )
    }
    assert schemas == {"mre_summaries"}


@pytest.mark.parametrize("driver_id", [101, 102, 103])
def test_statistics_equal_python_recomputation(built: sa.Engine, driver_id: int) -> None:
    times = next(t for d, _, t in RACE_2024 if d == driver_id)
    row = summary(built, 7001, driver_id)
    n = len(times)
    mean = statistics.fmean(times)
    pstdev = statistics.pstdev(times)
    ordered = sorted(times)
    assert row["laps"] == n
    assert row["total_time_s"] == r3(sum(times))
    assert row["best_lap_s"] == r3(min(times))
    assert row["best_lap_number"] == times.index(min(times)) + 1
    assert row["mean_lap_s"] == mean3(times)
    assert row["median_lap_s"] == r3(statistics.median(Decimal(str(t)) for t in times))
    assert row["stddev_lap_s"] == r3(pstdev)
    assert abs(float(row["consistency_pct"]) - 100 * (1 - pstdev / mean)) < 0.001
    assert row["best_3_consecutive_s"] == r3(min(sum(times[i : i + 3]) for i in range(n - 2)))
    assert abs(float(row["avg_top5_s"]) - statistics.fmean(ordered[:5])) < 0.0006
    assert abs(float(row["avg_top10_s"]) - statistics.fmean(ordered[:10])) < 0.0006
    third = n // 3
    first, last = statistics.fmean(times[:third]), statistics.fmean(times[-third:])
    assert abs(float(row["first_third_avg_s"]) - first) < 0.0006
    assert abs(float(row["last_third_avg_s"]) - last) < 0.0006
    assert abs(float(row["drop_off_s"]) - (last - first)) < 0.0011


def test_all_equal_laps_give_zero_spread_and_full_consistency(built: sa.Engine) -> None:
    row = summary(built, 7001, 103)
    assert row["stddev_lap_s"] == 0
    assert row["consistency_pct"] == 100
    assert row["drop_off_s"] == 0
    assert row["avg_top10_s"] == Decimal("32.000")


def test_winner_gap_and_positions(built: sa.Engine) -> None:
    winner = summary(built, 7001, 101)
    chaser = summary(built, 7001, 102)
    carl = summary(built, 7001, 103)
    assert (winner["finish_position"], winner["gap_to_winner_s"], winner["laps_behind_winner"]) == (1, 0, 0)
    assert chaser["finish_position"] == 2
    assert chaser["gap_to_winner_s"] == chaser["total_time_s"] - winner["total_time_s"] > 0
    assert (carl["laps_behind_winner"], carl["gap_to_winner_s"]) == (1, None)
    assert (winner["grid_position"], chaser["grid_position"], chaser["positions_gained"]) == (1, 2, 0)


def test_single_lap_driver_has_laps_but_no_spread(built: sa.Engine) -> None:
    row = summary(built, 7001, 104)
    assert (row["laps"], row["best_lap_s"], row["mean_lap_s"], row["median_lap_s"]) == (
        1,
        Decimal("35.500"),
        Decimal("35.500"),
        Decimal("35.500"),
    )
    for column in (
        "stddev_lap_s",
        "consistency_pct",
        "best_3_consecutive_s",
        "avg_top5_s",
        "first_third_avg_s",
        "drop_off_s",
        "gap_to_winner_s",
    ):
        assert row[column] is None, column
    assert row["laps_behind_winner"] == 11


def test_non_starter_gets_zero_laps_and_null_statistics(built: sa.Engine) -> None:
    row = summary(built, 7001, 105)
    assert row["laps"] == 0 and row["started"] is False
    stats = (
        "total_time_s",
        "best_lap_s",
        "mean_lap_s",
        "median_lap_s",
        "stddev_lap_s",
        "consistency_pct",
        "best_3_consecutive_s",
        "avg_top5_s",
        "avg_top10_s",
        "first_third_avg_s",
        "last_third_avg_s",
        "drop_off_s",
        "drop_off_pct",
        "gap_to_winner_s",
        "grid_position",
    )
    assert {c: row[c] for c in stats} == dict.fromkeys(stats)
    assert row["finish_position"] == 5 and row["laps_behind_winner"] == 12


def test_lap_progression_cumulative_leader_gap_and_rolling(built: sa.Engine) -> None:
    laps = rows(
        built,
        "SELECT * FROM mre_summaries.lap_progression WHERE source_race_id = 7001"
        " ORDER BY source_driver_id, lap_number",
    )
    assert len(laps) == sum(len(t) for _, _, t in RACE_2024)
    cumulative: dict[tuple[int, int], float] = {}
    pk_to_source = {lap["driver_id"]: lap["source_driver_id"] for lap in laps}
    for source_id, _, times in RACE_2024:
        mine = [lap for lap in laps if lap["source_driver_id"] == source_id]
        running = 0.0
        for i, (t, lap) in enumerate(zip(times, mine, strict=True)):
            running += t
            assert lap["cumulative_time_s"] == r3(running)
            window = times[max(0, i - 4) : i + 1]
            assert lap["rolling_5_lap_avg_s"] == mean3(window)
            assert lap["rolling_5_lap_count"] == len(window)
            cumulative[(source_id, lap["lap_number"])] = running
    for lap in laps:
        leader_time = min(v for (_, n), v in cumulative.items() if n == lap["lap_number"])
        mine = cumulative[(lap["source_driver_id"], lap["lap_number"])]
        assert abs(float(lap["gap_to_leader_s"]) - (mine - leader_time)) < 1e-6
        if lap["position"] == 1:
            assert lap["gap_to_leader_s"] == 0 and lap["leader_driver_id"] == lap["driver_id"]
    # BEN leads lap 1; after lap 2 both are on 59.000 s (ANNA is P1, BEN P2 with gap 0); then ANNA leads.
    leaders = {lap["lap_number"]: pk_to_source[lap["leader_driver_id"]] for lap in laps}
    assert (leaders[1], leaders[2], leaders[3]) == (102, 101, 101)
    lap2 = sorted((lap["position"], lap["gap_to_leader_s"]) for lap in laps if lap["lap_number"] == 2)
    assert lap2[:2] == [(1, 0), (2, 0)]


def test_track_history_compares_years(built: sa.Engine) -> None:
    history = rows(
        built,
        "SELECT * FROM mre_summaries.driver_track_history WHERE source_driver_id = 101 ORDER BY race_year",
    )
    assert [(h["race_year"], h["races"], h["laps"], h["events"]) for h in history] == [
        (2024, 1, 12, 1),
        (2025, 1, 6, 1),
    ]
    race_2025 = summary(built, 7002, 101)
    assert history[1]["consistency_pct"] == race_2025["consistency_pct"]
    assert history[1]["best_lap_s"] == Decimal("28.500")
    events = rows(built, "SELECT * FROM mre_summaries.driver_event_summary ORDER BY event_id, driver_id")
    assert len(events) == len(RACE_2024) + len(RACE_2025)
    nonstarter = next(e for e in events if e["source_driver_id"] == 105)
    assert (
        nonstarter["races"],
        nonstarter["races_started"],
        nonstarter["laps"],
        nonstarter["consistency_pct"],
    ) == (1, 0, 0, None)


def test_rebuild_is_idempotent(built: sa.Engine, summaries_db: str) -> None:
    before = rows(built, "SELECT * FROM mre_summaries.driver_race_summary ORDER BY race_result_id")
    dbt_build_ok(summaries_db)
    assert rows(built, "SELECT * FROM mre_summaries.driver_race_summary ORDER BY race_result_id") == before


def test_coaching_queries_are_documented_verbatim() -> None:
    doc = (settings.PROJECT_ROOT / "README.md").read_text()
    for name, sql in COACHING_QUERIES.items():
        assert sql in doc, name


def test_coaching_drop_off_query(built: sa.Engine) -> None:
    phases = rows(
        built, LAP_TIME_DROP_OFF, source="liverc", source_race_id=7001, source_driver_id=101, after_lap=8
    )
    assert [(p["phase"], p["laps"]) for p in phases] == [("before", 8), ("after", 4)]
    times = RACE_2024[0][2]
    assert phases[1]["mean_lap_s"] == mean3(times[8:])
    assert phases[1]["incident_laps"] == 1  # the 33.0 s last lap
    assert phases[1]["position_at_phase_end"] == 1 and phases[1]["gap_to_leader_at_phase_end_s"] == 0


def test_coaching_versus_leader_query(built: sa.Engine) -> None:
    laps = rows(
        built,
        VERSUS_LEADER_OPENING,
        source="liverc",
        source_race_id=7001,
        source_driver_id=102,
        first_seconds=120,
    )
    assert [lap["lap_number"] for lap in laps] == [1, 2, 3, 4]  # 29 + 30 + 30 + 29 = 118 s
    assert laps[0]["leader_name"] == "BEN CHASER" and laps[0]["lap_delta_s"] == 0
    assert laps[2]["leader_name"] == "ANNA WINNER"
    assert laps[2]["gap_to_leader_s"] == Decimal("89.000") - Decimal("88.500")


def test_coaching_consistency_query(built: sa.Engine) -> None:
    years = rows(
        built, CONSISTENCY_BY_YEAR, source="liverc", source_driver_id=101, track_slug=TRACK, year=2025
    )
    assert [y["race_year"] for y in years] == [2024, 2025]
    assert years[0]["consistency_change_pct"] is None
    assert years[1]["consistency_change_pct"] == years[1]["consistency_pct"] - years[0]["consistency_pct"]
    assert years[1]["consistency_change_pct"] > 0  # 2025's laps are much tighter
