"""LiveRC and Everlaps events in one warehouse: the marts carry each row's source, race times and gaps count
the lead-in that an Everlaps heat counts, and a driver's history never merges the two sources.

The Everlaps final is built by hand so every figure is known: its drivers' lap times alone would put the
runner-up ahead (29.0 + 29.5 + 29.0 = 87.5 s against 88.5 s), but their runs from the grid to the line (3 s
and 5 s) count in the published totals (91.5 s and 92.5 s), so the winner leads every lap by race time. The
LiveRC race has the same laps and the same driver ids (101, 102), without a lead-in, so it is won the other
way round. A generated Everlaps event (the fake site's generator) adds qualifying heats that do not count the
lead-in and non-starters. The events are built as the summaries sensor builds them, one batch per event, then
by a full build, which must give the same rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from mre_pipeline.connectors.records import (
    DriverResult,
    EventDetail,
    LapRecord,
    RaceResult,
    RaceSummary,
    TrackRecord,
)
from mre_pipeline.fake_everlaps.generator import GeneratedEvent, generate_event, race_id
from mre_pipeline.warehouse import engineer_queries
from mre_pipeline.warehouse.coaching_queries import CONSISTENCY_BY_YEAR
from mre_pipeline.warehouse.event_results import write_event
from mre_pipeline_tests.summaries.conftest import dbt_batch_build_ok, dbt_build_ok, rows
from mre_pipeline_tests.summaries.synthetic import TRACK, build_race

D = Decimal
VENUE_SLUG = "everlaps-n38969-w005868"
FINAL_PATH = "7303/5/1/1"
FINAL_ID = race_id(FINAL_PATH)
LAPS = {101: [30.0, 29.0, 29.5], 102: [29.0, 29.5, 29.0]}
LEAD_IN = {101: 3.0, 102: 5.0, 103: 766.956}  # 103 crossed the line once, after 766.956 s: no lap


def everlaps_final() -> tuple[EventDetail, list[RaceResult]]:
    """One Everlaps event with one final that counts the lead-in, and a non-starter with a published total."""

    def driver(driver_id: int, name: str, position: int) -> DriverResult:
        times = LAPS.get(driver_id, [])
        cumulative = LEAD_IN[driver_id]
        laps = []
        for number, time in enumerate(times, start=1):
            cumulative += time
            laps.append(LapRecord(lap_number=number, lap_time_s=time, position=position))
        return DriverResult(
            driver_id=driver_id,
            driver_name=name,
            position=position,
            laps_completed=len(times),
            total_time_s=round(cumulative, 3),
            car_number=str(position),
            grid_position=position,
            fastest_lap_s=min(times) if times else None,
            laps=tuple(laps),
            lead_in_time_s=LEAD_IN[driver_id],
        )

    venue = TrackRecord(
        source="everlaps",
        slug=VENUE_SLUG,
        name="Circuito de Prueba",
        activity="idle",
        organiser="Club RC Prueba",
        latitude=38.969,
        longitude=-5.868,
    )
    summary = RaceSummary(
        FINAL_ID, "Finals", 1, "1:8 Nitro Buggy", "1:8 Nitro Buggy Final", locator=FINAL_PATH
    )
    detail = EventDetail(
        source="everlaps",
        track_slug=VENUE_SLUG,
        event_id=3702,
        name="Gran Premio de Prueba",
        track_name=venue.name,
        start_date=date(2025, 5, 3),
        end_date=date(2025, 5, 4),
        races=(summary,),
        venue=venue,
        starts_at_utc=datetime(2025, 5, 3, 7, 30, tzinfo=UTC),
        ends_at_utc=datetime(2025, 5, 4, 16, 0, tzinfo=UTC),
    )
    drivers = (driver(101, "Ana Núñez", 1), driver(102, "Benito Peña", 2), driver(103, "Óscar Úbeda", 3))
    race = RaceResult(
        FINAL_ID, "1:8 Nitro Buggy Final", "Finals", "10:00 Timed", 1, drivers, lead_in_counted=True
    )
    return detail, [race]


def liverc_race() -> tuple[EventDetail, list[RaceResult]]:
    """The same laps and driver ids at a LiveRC track, in the same year, without a lead-in."""
    day = date(2025, 6, 7)
    detail = EventDetail(
        source="liverc",
        track_slug=TRACK,
        event_id=9101,
        name="Club Day",
        track_name="Test Track",
        start_date=day,
        end_date=day,
        races=(RaceSummary(7101, "Main Events", 1, "Buggy", "Buggy A-Main", datetime(2025, 6, 7, 15, 0)),),
    )
    race = build_race(7101, [(101, "ANNA WINNER", LAPS[101]), (102, "BEN CHASER", LAPS[102])])
    return detail, [race]


GENERATED: GeneratedEvent = generate_event(
    21, classes=1, drivers_per_class=6, qualifying_rounds=1, semi_series=1
)


def write(engine: sa.Engine, detail: EventDetail, races: list[RaceResult]) -> int:
    """Write one event in its own transaction, as the pipeline does; its warehouse event id."""
    with engine.begin() as conn:
        write_event(conn, detail, races, None)
        return conn.execute(
            sa.text("SELECT event_id FROM mre.events WHERE source = :s AND source_event_id = :e"),
            {"s": detail.source, "e": detail.event_id},
        ).scalar_one()


@pytest.fixture(scope="module")
def warehouse(summaries_db: str, summaries_engine: sa.Engine) -> Iterator[sa.Engine]:
    """Both sources, built one event batch at a time as the summaries sensor does."""
    with summaries_engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO mre.tracks (slug, name) VALUES (:s, 'Test Track')"), {"s": TRACK})
    liverc = write(summaries_engine, *liverc_race())
    dbt_batch_build_ok(summaries_db, [liverc], rebuild_staging=True)
    everlaps = write(summaries_engine, *everlaps_final())
    generated = write(summaries_engine, GENERATED.detail, list(GENERATED.results.values()))
    for event_id in (everlaps, generated):
        output = dbt_batch_build_ok(summaries_db, [event_id])
        # assert_laps_match_published_lap_counts (severity warn): race times equal the published totals.
        assert "WARN=0" in output, output[-3000:]
    yield summaries_engine


def race_rows(engine: sa.Engine, source: str, source_race_id: int) -> dict[int, dict]:
    found = rows(
        engine,
        "SELECT * FROM mre_summaries.driver_race_summary WHERE source = :s AND source_race_id = :r",
        s=source,
        r=source_race_id,
    )
    return {r["source_driver_id"]: r for r in found}


def test_every_mart_row_carries_its_source(warehouse: sa.Engine) -> None:
    for mart in ("driver_race_summary", "lap_progression", "driver_event_summary", "driver_track_history"):
        counted = rows(warehouse, f"SELECT source, count(*) AS n FROM mre_summaries.{mart} GROUP BY source")
        assert {r["source"] for r in counted} == {"liverc", "everlaps"}, mart
    by_source = rows(
        warehouse,
        "SELECT source, count(*) AS n FROM mre_summaries.driver_race_summary GROUP BY source ORDER BY source",
    )
    assert by_source == [
        {"source": "everlaps", "n": 3 + GENERATED.driver_results},
        {"source": "liverc", "n": 2},
    ]


def test_everlaps_race_time_and_gap_count_the_lead_in(warehouse: sa.Engine) -> None:
    final = race_rows(warehouse, "everlaps", FINAL_ID)
    picked = {
        d: (
            r["finish_position"],
            r["laps"],
            r["total_time_s"],
            r["lead_in_time_s"],
            r["race_time_s"],
            r["published_total_time_s"],
            r["gap_to_winner_s"],
        )
        for d, r in final.items()
    }
    assert picked == {
        101: (1, 3, D("88.500"), D("3.000"), D("91.500"), D("91.500"), D("0.000")),
        102: (2, 3, D("87.500"), D("5.000"), D("92.500"), D("92.500"), D("1.000")),
        103: (3, 0, None, D("766.956"), D("766.956"), D("766.956"), None),
    }
    assert {r["lead_in_counted"] for r in final.values()} == {True}
    assert {r["locator"] for r in final.values()} == {FINAL_PATH}


def test_everlaps_cumulative_time_and_leader_count_the_lead_in(warehouse: sa.Engine) -> None:
    laps = rows(
        warehouse,
        """
        SELECT source, source_driver_id, lap_number, lead_in_time_s, cumulative_time_s, leader_cumulative_time_s,
               gap_to_leader_s, leader_driver_id = (SELECT driver_id FROM mre.drivers
                                                     WHERE source = 'everlaps' AND source_driver_id = 101)
                   AS ana_leads
        FROM mre_summaries.lap_progression
        WHERE source = 'everlaps' AND source_race_id = :r
        ORDER BY source_driver_id, lap_number
        """,
        r=FINAL_ID,
    )
    assert [
        (r["source_driver_id"], r["lap_number"], r["cumulative_time_s"], r["gap_to_leader_s"], r["ana_leads"])
        for r in laps
    ] == [
        (101, 1, D("33.000"), D("0"), True),
        (101, 2, D("62.000"), D("0"), True),
        (101, 3, D("91.500"), D("0"), True),
        (102, 1, D("34.000"), D("1.000"), True),
        (102, 2, D("63.500"), D("1.500"), True),
        (102, 3, D("92.500"), D("1.000"), True),
    ]
    assert {r["lead_in_time_s"] for r in laps if r["source_driver_id"] == 102} == {D("5.000")}


def test_liverc_race_has_no_lead_in(warehouse: sa.Engine) -> None:
    race = race_rows(warehouse, "liverc", 7101)
    assert {
        d: (
            r["finish_position"],
            r["total_time_s"],
            r["lead_in_time_s"],
            r["race_time_s"],
            r["gap_to_winner_s"],
        )
        for d, r in race.items()
    } == {
        102: (1, D("87.500"), None, D("87.500"), D("0.000")),
        101: (2, D("88.500"), None, D("88.500"), D("1.000")),
    }
    [last] = rows(
        warehouse,
        "SELECT cumulative_time_s, gap_to_leader_s FROM mre_summaries.lap_progression "
        "WHERE source = 'liverc' AND source_race_id = 7101 AND source_driver_id = 101 AND lap_number = 3",
    )
    assert last == {"cumulative_time_s": D("88.500"), "gap_to_leader_s": D("1.000")}


def test_generated_everlaps_event_race_times_equal_published_totals(warehouse: sa.Engine) -> None:
    """Qualifying heats (lead-in not counted), finals (counted), non-starters: the neutral total holds."""
    expected = {
        (rid, d.driver_id): (
            D(str(round(sum(lap.lap_time_s for lap in d.laps) + (d.lead_in_time_s or 0), 3)))
            if d.laps or d.lead_in_time_s is not None
            else None
        )
        for rid, race in GENERATED.results.items()
        for d in race.drivers
    }
    found = rows(
        warehouse,
        """
        SELECT s.source_race_id, s.source_driver_id, s.race_time_s,
               (SELECT max(cumulative_time_s) FROM mre_summaries.lap_progression lp
                WHERE lp.race_result_id = s.race_result_id) AS last_cumulative_s
        FROM mre_summaries.driver_race_summary s
        JOIN mre.events e USING (event_id)
        WHERE e.source = 'everlaps' AND e.source_event_id = :e
        """,
        e=GENERATED.event_id,
    )
    assert {(r["source_race_id"], r["source_driver_id"]): r["race_time_s"] for r in found} == expected
    assert any(race.lead_in_counted for race in GENERATED.results.values())
    assert any(race.lead_in_counted is False for race in GENERATED.results.values())
    for r in found:
        if r["last_cumulative_s"] is not None:
            assert r["last_cumulative_s"] == r["race_time_s"]


def test_event_chart_raw_laps_equal_lap_progression_for_everlaps(warehouse: sa.Engine) -> None:
    """The event asset's chart, drawn from the raw tables before dbt runs, counts the lead-in as dbt does."""
    columns = (
        "source_driver_id",
        "lap_number",
        "cumulative_time_s",
        "gap_to_leader_s",
        "delta_to_own_median_s",
    )
    races = rows(warehouse, "SELECT race_id FROM mre.races WHERE source = 'everlaps' ORDER BY race_id")
    assert len(races) == 1 + len(GENERATED.results)
    for race in races:
        with warehouse.connect() as conn:
            raw = engineer_queries.raw_race_laps(conn, race["race_id"])
        marts = rows(
            warehouse,
            f"SELECT {', '.join(columns)} FROM mre_summaries.lap_progression WHERE race_id = :r",
            r=race["race_id"],
        )
        assert sorted(tuple(r[c] for c in columns) for r in raw) == sorted(tuple(r.values()) for r in marts)


def test_race_date_is_the_everlaps_event_first_day(warehouse: sa.Engine) -> None:
    final = race_rows(warehouse, "everlaps", FINAL_ID)
    assert {
        (r["completed_at"], r["race_date"], r["race_year"], r["event_starts_at_utc"]) for r in final.values()
    } == {(None, date(2025, 5, 3), 2025, datetime(2025, 5, 3, 7, 30, tzinfo=UTC))}


def test_driver_history_does_not_merge_sources(warehouse: sa.Engine) -> None:
    history = rows(
        warehouse,
        """
        SELECT source, source_driver_id, driver_name, track_slug, race_year, events, races, laps, best_lap_s
        FROM mre_summaries.driver_track_history
        WHERE source_driver_id IN (101, 102)
        ORDER BY source, source_driver_id
        """,
    )
    assert history == [
        {"source": "everlaps", "source_driver_id": 101, "driver_name": "Ana Núñez", "track_slug": VENUE_SLUG,
         "race_year": 2025, "events": 1, "races": 1, "laps": 3, "best_lap_s": D("29.000")},
        {"source": "everlaps", "source_driver_id": 102, "driver_name": "Benito Peña", "track_slug": VENUE_SLUG,
         "race_year": 2025, "events": 1, "races": 1, "laps": 3, "best_lap_s": D("29.000")},
        {"source": "liverc", "source_driver_id": 101, "driver_name": "ANNA WINNER", "track_slug": TRACK,
         "race_year": 2025, "events": 1, "races": 1, "laps": 3, "best_lap_s": D("29.000")},
        {"source": "liverc", "source_driver_id": 102, "driver_name": "BEN CHASER", "track_slug": TRACK,
         "race_year": 2025, "events": 1, "races": 1, "laps": 3, "best_lap_s": D("29.000")},
    ]  # fmt: skip
    events = rows(
        warehouse,
        "SELECT source, race_time_s FROM mre_summaries.driver_event_summary WHERE source_driver_id = 101 "
        "ORDER BY source",
    )
    assert events == [
        {"source": "everlaps", "race_time_s": D("91.500")},
        {"source": "liverc", "race_time_s": D("88.500")},
    ]
    with warehouse.connect() as conn:
        coach = conn.execute(
            sa.text(CONSISTENCY_BY_YEAR),
            {"source": "liverc", "source_driver_id": 101, "track_slug": TRACK, "year": 2025},
        ).all()
    assert [(r.race_year, r.races, r.laps) for r in coach] == [(2025, 1, 3)]


def test_a_full_build_gives_the_rows_the_batches_built(summaries_db: str, warehouse: sa.Engine) -> None:
    marts = {
        "driver_race_summary": "race_result_id",
        "lap_progression": "race_result_id, lap_number",
        "driver_event_summary": "event_id, driver_id",
        "driver_track_history": "driver_id, track_id, race_year",
    }
    before = {m: rows(warehouse, f"SELECT * FROM mre_summaries.{m} ORDER BY {k}") for m, k in marts.items()}
    dbt_build_ok(summaries_db)
    after = {m: rows(warehouse, f"SELECT * FROM mre_summaries.{m} ORDER BY {k}") for m, k in marts.items()}
    assert after == before
