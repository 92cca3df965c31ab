"""Reads behind the race engineer: charts, the HTML report and the coach (all SQL of those lives here).

Two families:

- Mart reads (``mre_summaries``), for the report and the coach: the figures analysts see, as dbt built them.
- Raw reads (``mre.*``), for the chart on the event asset's materialization: that chart is drawn right after
  the event is written, before dbt has rebuilt the marts, so ``RAW_RACE_LAPS`` computes the same per-lap
  figures as ``lap_progression`` (cumulative time, gap to the leader, delta to the driver's own median) from
  the raw tables of one race. A test holds the two to the same numbers.

Every function takes an open connection and returns plain dicts (column name -> value).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

# Accent- and case-insensitive comparison without an extension: lower-case, decompose (NFD), drop the
# combining marks, map the few letters NFD does not split, squeeze whitespace.
_FOLD = (
    "regexp_replace(translate(regexp_replace(normalize(lower({x}), NFD), '[\\u0300-\\u036f]', '', 'g'),"
    " 'łøđ', 'lod'), '\\s+', ' ', 'g')"
)


def _rows(conn: sa.Connection, sql: str, **params: Any) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(sa.text(sql), params)]


def _one(conn: sa.Connection, sql: str, **params: Any) -> dict[str, Any] | None:
    found = _rows(conn, sql, **params)
    return found[0] if found else None


# --- events, races, drivers (raw tables: they exist before dbt runs) -------------------------------------


def find_event(conn: sa.Connection, source: str, source_event_id: int) -> dict[str, Any] | None:
    return _one(
        conn,
        """
        select e.event_id, e.source, e.source_event_id, e.name as event_name, e.start_date, e.end_date,
               e.ingest_depth, t.track_id, t.slug as track_slug, t.name as track_name
        from mre.events e join mre.tracks t using (track_id)
        where e.source = :source and e.source_event_id = :source_event_id
        """,
        source=source,
        source_event_id=source_event_id,
    )


def find_race(conn: sa.Connection, source: str, source_race_id: int) -> dict[str, Any] | None:
    return _one(
        conn,
        """
        select r.race_id, r.source_race_id, r.event_id, e.source_event_id, e.name as event_name,
               r.section, r.race_number, r.class_name, r.session_label, r.round_label, r.completed_at,
               t.slug as track_slug
        from mre.races r join mre.events e using (event_id) join mre.tracks t using (track_id)
        where r.source = :source and r.source_race_id = :source_race_id
        """,
        source=source,
        source_race_id=source_race_id,
    )


def event_races(conn: sa.Connection, event_id: int) -> list[dict[str, Any]]:
    """An event's races in running order, with how many drivers started and who won."""
    return _rows(
        conn,
        """
        select r.race_id, r.source_race_id, r.section, r.race_number, r.class_name, r.session_label,
               r.round_label, r.length_label, r.completed_at,
               count(rr.race_result_id) as drivers,
               count(rr.race_result_id) filter (where rr.laps_completed > 0) as starters,
               max(d.name) filter (where rr.position = 1) as winner_name,
               max(rr.laps_completed) filter (where rr.position = 1) as winner_laps,
               max(rr.total_time_s) filter (where rr.position = 1) as winner_time_s
        from mre.races r
        left join mre.race_results rr using (race_id)
        left join mre.drivers d using (driver_id)
        where r.event_id = :event_id
        group by r.race_id
        order by r.completed_at nulls last, r.race_number, r.source_race_id
        """,
        event_id=event_id,
    )


def find_drivers(conn: sa.Connection, name: str, limit: int = 10) -> list[dict[str, Any]]:
    """Drivers whose name contains ``name``, ignoring case and accents; exact matches first."""
    pattern = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    folded = _FOLD.format(x="d.name")
    wanted = _FOLD.format(x="cast(:name as text)")
    return _rows(
        conn,
        f"""
        select d.driver_id, d.source, d.source_driver_id, d.name as driver_name,
               count(rr.race_result_id) as races,
               max(coalesce(r.completed_at::date, e.start_date)) as last_race_date
        from mre.drivers d
        left join mre.race_results rr using (driver_id)
        left join mre.races r using (race_id)
        left join mre.events e using (event_id)
        where {folded} like '%' || {_FOLD.format(x="cast(:pattern as text)")} || '%'
        group by d.driver_id
        order by ({folded} = trim({wanted})) desc, count(rr.race_result_id) desc, d.name, d.driver_id
        limit :limit
        """,
        name=name,
        pattern=pattern.strip(),
        limit=limit,
    )


def find_driver_by_source_id(
    conn: sa.Connection, source: str, source_driver_id: int
) -> dict[str, Any] | None:
    return _one(
        conn,
        """
        select driver_id, source, source_driver_id, name as driver_name
        from mre.drivers where source = :source and source_driver_id = :source_driver_id
        """,
        source=source,
        source_driver_id=source_driver_id,
    )


# --- marts (mre_summaries) ------------------------------------------------------------------------------

RACE_SUMMARY_COLUMNS = """
    race_result_id, race_id, source_race_id, event_id, source_event_id, event_name, event_start_date,
    track_slug, driver_id, source_driver_id, driver_name, car_number, class_name, session_label, section,
    round_label, race_number, race_date, race_year, laps, started, total_time_s, best_lap_s, best_lap_number,
    mean_lap_s, median_lap_s, stddev_lap_s, consistency_pct, best_3_consecutive_s, avg_top5_s,
    first_third_avg_s, last_third_avg_s, drop_off_s, drop_off_pct, grid_position, finish_position,
    positions_gained, laps_behind_winner, gap_to_winner_s
"""

LAP_COLUMNS = """
    race_id, source_race_id, driver_id, source_driver_id, driver_name, lap_number, lap_time_s, position,
    cumulative_time_s, leader_driver_id, gap_to_leader_s, rolling_5_lap_avg_s, delta_to_own_median_s,
    delta_to_own_best_s
"""


def race_summaries(conn: sa.Connection, race_id: int) -> list[dict[str, Any]]:
    """``driver_race_summary`` rows of one race, in finishing order."""
    return _rows(
        conn,
        f"""
        select {RACE_SUMMARY_COLUMNS}
        from mre_summaries.driver_race_summary
        where race_id = :race_id
        order by finish_position, driver_name
        """,
        race_id=race_id,
    )


def race_laps(conn: sa.Connection, race_id: int) -> list[dict[str, Any]]:
    """``lap_progression`` rows of one race (every driver, every timed lap)."""
    return _rows(
        conn,
        f"""
        select {LAP_COLUMNS}
        from mre_summaries.lap_progression
        where race_id = :race_id
        order by driver_id, lap_number
        """,
        race_id=race_id,
    )


def driver_race_history(conn: sa.Connection, driver_id: int) -> list[dict[str, Any]]:
    """Every ``driver_race_summary`` row of one driver, oldest first (a driver across events)."""
    return _rows(
        conn,
        f"""
        select {RACE_SUMMARY_COLUMNS}, track_name
        from mre_summaries.driver_race_summary
        where driver_id = :driver_id
        order by race_date, completed_at nulls last, race_number, source_race_id
        """,
        driver_id=driver_id,
    )


def driver_event_summaries(conn: sa.Connection, driver_id: int) -> list[dict[str, Any]]:
    return _rows(
        conn,
        """
        select event_id, source_event_id, event_name, event_start_date, track_slug, races, races_started,
               laps, total_time_s, best_lap_s, best_lap_class_name, consistency_pct, best_finish_position,
               classes
        from mre_summaries.driver_event_summary
        where driver_id = :driver_id
        order by event_start_date, source_event_id
        """,
        driver_id=driver_id,
    )


def driver_track_years(conn: sa.Connection, driver_id: int, track_slug: str) -> list[dict[str, Any]]:
    return _rows(
        conn,
        """
        select race_year, events, races, races_started, laps, best_lap_s, best_lap_class_name, mean_lap_s,
               consistency_pct, worst_race_consistency_pct, best_race_consistency_pct, mean_drop_off_pct,
               first_race_date, last_race_date, classes
        from mre_summaries.driver_track_history
        where driver_id = :driver_id and track_slug = :track_slug
        order by race_year
        """,
        driver_id=driver_id,
        track_slug=track_slug,
    )


def marts_built_for_event(conn: sa.Connection, event_id: int) -> bool:
    """Whether dbt has built the summaries for this event yet (they lag ingestion by a build)."""
    return bool(
        conn.execute(
            sa.text("select exists (select 1 from mre_summaries.driver_race_summary where event_id = :e)"),
            {"e": event_id},
        ).scalar()
    )


def marts_exist(conn: sa.Connection) -> bool:
    return (
        conn.execute(sa.text("select to_regclass('mre_summaries.driver_race_summary')")).scalar() is not None
    )


# --- raw figures for the event asset's chart --------------------------------------------------------------

# One race's laps with lap_progression's figures, from the raw tables (median and leader rules as in dbt:
# the median is the mean of the middle one or two laps by speed, rounded to 3 dp; the leader after lap N is
# the driver the source shows in P1, else the earliest to complete lap N; cumulative time includes the lead-in
# the race counts, as in dbt).
RAW_RACE_LAPS = """
with laps as (
    select rr.race_result_id, rr.driver_id, d.source_driver_id, d.name as driver_name,
           rr.position as finish_position, l.lap_number, l.lap_time_s, l.position,
           coalesce(rr.lead_in_time_s, 0) + sum(l.lap_time_s) over (
               partition by l.race_result_id order by l.lap_number rows unbounded preceding
           ) as cumulative_time_s,
           count(*) over (partition by l.race_result_id) as n_laps,
           row_number() over (partition by l.race_result_id order by l.lap_time_s, l.lap_number) as speed_rank
    from mre.laps l
    join mre.race_results rr using (race_result_id)
    join mre.drivers d using (driver_id)
    where rr.race_id = :race_id
),
medians as (
    select race_result_id,
           round(avg(lap_time_s) filter (where speed_rank in ((n_laps + 1) / 2, (n_laps + 2) / 2)), 3)
               as median_lap_s
    from laps
    group by race_result_id
),
leaders as (
    select distinct on (lap_number) lap_number, cumulative_time_s as leader_cumulative_time_s
    from laps
    order by lap_number, (position = 1) desc nulls last, cumulative_time_s, driver_id
)
select l.driver_id, l.source_driver_id, l.driver_name, l.finish_position, l.lap_number, l.lap_time_s,
       l.position, l.cumulative_time_s,
       case when l.position = 1 then 0
            else l.cumulative_time_s - ld.leader_cumulative_time_s end as gap_to_leader_s,
       l.lap_time_s - m.median_lap_s as delta_to_own_median_s
from laps l
join medians m using (race_result_id)
join leaders ld using (lap_number)
order by l.finish_position, l.lap_number
"""

# Every driver's median and best lap in every race of an event, from the raw tables.
RAW_EVENT_PACE = """
with laps as (
    select r.race_id, rr.race_result_id, d.name as driver_name, rr.position as finish_position,
           l.lap_time_s,
           count(*) over (partition by rr.race_result_id) as n_laps,
           row_number() over (partition by rr.race_result_id order by l.lap_time_s, l.lap_number)
               as speed_rank
    from mre.races r
    join mre.race_results rr using (race_id)
    join mre.drivers d using (driver_id)
    join mre.laps l using (race_result_id)
    where r.event_id = :event_id
)
select race_id, driver_name, finish_position, count(*) as laps, min(lap_time_s) as best_lap_s,
       round(avg(lap_time_s) filter (where speed_rank in ((n_laps + 1) / 2, (n_laps + 2) / 2)), 3)
           as median_lap_s
from laps
group by race_id, race_result_id, driver_name, finish_position
order by race_id, finish_position
"""


def raw_race_laps(conn: sa.Connection, race_id: int) -> list[dict[str, Any]]:
    return _rows(conn, RAW_RACE_LAPS, race_id=race_id)


def raw_event_pace(conn: sa.Connection, event_id: int) -> list[dict[str, Any]]:
    return _rows(conn, RAW_EVENT_PACE, event_id=event_id)


def run_query(conn: sa.Connection, sql: str, **params: Any) -> list[dict[str, Any]]:
    """Run one of the named queries of ``coaching_queries`` (the coach quotes them unchanged)."""
    return _rows(conn, sql, **params)
