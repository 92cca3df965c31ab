"""The figures behind the charts: raw-table reads equal the marts, chart data equal lap_progression."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from mre_pipeline.engineer import charts
from mre_pipeline.engineer.event_chart import draw_event_chart
from mre_pipeline.warehouse import engineer_queries as q
from mre_pipeline_tests.engineer.conftest import EVENT, RACE
from mre_pipeline_tests.summaries.conftest import rows

pytestmark = pytest.mark.liverc_pages

LAP_SQL = """
select driver_name, lap_number, lap_time_s, position, cumulative_time_s, gap_to_leader_s, delta_to_own_median_s
from mre_summaries.lap_progression where source_race_id = :race order by driver_name, lap_number
"""


def _race_id(engine: sa.Engine, source_race_id: int) -> int:
    with engine.connect() as conn:
        return q.find_race(conn, "liverc", source_race_id)["race_id"]


@pytest.mark.parametrize("source_race_id", [6304829, 6304822])
def test_raw_race_laps_equal_lap_progression(captured_marts: sa.Engine, source_race_id: int) -> None:
    """The event asset's chart (drawn before dbt runs) plots exactly what lap_progression holds."""
    with captured_marts.connect() as conn:
        raw = q.raw_race_laps(conn, _race_id(captured_marts, source_race_id))
    columns = ("driver_name", "lap_number", "lap_time_s", "position", "cumulative_time_s")
    columns += ("gap_to_leader_s", "delta_to_own_median_s")
    got = sorted(tuple(r[c] for c in columns) for r in raw)
    expected = [tuple(r.values()) for r in rows(captured_marts, LAP_SQL, race=source_race_id)]
    assert len(got) == len(expected) > 0
    assert got == expected


def test_lap_chart_data_and_incidents_match_the_coaching_definition(captured_marts: sa.Engine) -> None:
    with captured_marts.connect() as conn:
        laps = charts.lap_rows_with_incidents(q.race_laps(conn, _race_id(captured_marts, RACE)))
    expected = rows(captured_marts, LAP_SQL, race=RACE)
    assert len(laps) == len(expected) == 444
    by_key = {(r["driver_name"], r["lap_number"]): r for r in laps}
    for row in expected:
        plotted = by_key[(row["driver_name"], row["lap_number"])]
        assert plotted["lap_time_s"] == float(row["lap_time_s"])
        assert plotted["position"] == row["position"]
        assert plotted["gap_to_leader_s"] == float(row["gap_to_leader_s"])
        assert plotted["incident"] == (row["delta_to_own_median_s"] > Decimal(2))
    [incidents] = rows(
        captured_marts,
        "select count(*) filter (where delta_to_own_median_s > 2) as n from mre_summaries.lap_progression "
        "where source_race_id = :race",
        race=RACE,
    )
    assert sum(r["incident"] for r in laps) == incidents["n"] > 0


def test_lap_time_axis_is_capped_only_when_slow_laps_would_flatten_it() -> None:
    laps = [
        {"lap_time_s": 38.0, "incident": False},
        {"lap_time_s": 39.4, "incident": False},
        {"lap_time_s": 146.0, "incident": True},
    ]
    assert charts.lap_time_cap(laps) == 43.0  # ceil(39.4 + 3)
    assert charts.lap_time_cap(laps[:2]) is None
    spec = charts.lap_times_chart(charts.lap_rows_with_incidents([]), ["A"])
    assert spec["layer"][0]["encoding"]["y"]["scale"] == {"zero": False}


def test_event_chart_from_raw_tables(captured_marts: sa.Engine) -> None:
    chart = draw_event_chart(captured_marts, "liverc", EVENT)
    assert (chart.races, chart.featured_race_id) == (2, RACE)  # the A-main runs last
    assert chart.svg.startswith("<svg") and "FELIX KOEGLER" in chart.svg
    assert "Race #2: positions" in chart.svg and "Race 14: 1/8 Nitro Buggy A-Main" in chart.markdown
    assert "data:image/svg+xml;base64," in chart.markdown
    assert chart.seconds > 0
