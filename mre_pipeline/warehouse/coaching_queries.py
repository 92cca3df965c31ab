"""The SQL behind the three coaching questions, importable by the coach and quoted in the README (For analysts).

Placeholders are named (``:source_race_id``); bind them with ``sqlalchemy.text`` (psql users: ``\\set``
the variables and quote the text one as ``:'track_slug'``). A test runs each query against ingested
races and checks that the documentation quotes it verbatim.
"""

# "Why did my lap times fall off after lap 20?" One row per phase (before / after the lap), with
# clean-lap pace separated from incidents (laps more than 2 s off the driver's own median).
LAP_TIME_DROP_OFF = """
select
    case when lp.lap_number <= :after_lap then 'before' else 'after' end as phase,
    count(*) as laps,
    round(avg(lp.lap_time_s), 3) as mean_lap_s,
    min(lp.lap_time_s) as best_lap_s,
    round(stddev_pop(lp.lap_time_s), 3) as stddev_s,
    count(*) filter (where lp.delta_to_own_median_s > 2) as incident_laps,
    round(avg(lp.lap_time_s) filter (where lp.delta_to_own_median_s <= 2), 3) as clean_mean_lap_s,
    min(lp.position) as best_position,
    max(lp.position) as worst_position,
    (array_agg(lp.position order by lp.lap_number desc))[1] as position_at_phase_end,
    (array_agg(lp.gap_to_leader_s order by lp.lap_number desc))[1] as gap_to_leader_at_phase_end_s
from mre_summaries.lap_progression lp
join mre_summaries.driver_race_summary s on s.race_result_id = lp.race_result_id
where s.source = :source
  and s.source_race_id = :source_race_id
  and s.source_driver_id = :source_driver_id
group by 1
order by min(lp.lap_number)
""".strip()

# "How did I compare to the leader in the first 5 minutes?" One row per lap I completed within the
# first :first_seconds of race time, next to whoever led that lap.
VERSUS_LEADER_OPENING = """
select
    me.lap_number,
    me.cumulative_time_s,
    me.position,
    me.lap_time_s,
    leader.driver_name as leader_name,
    leader.lap_time_s as leader_lap_time_s,
    me.lap_time_s - leader.lap_time_s as lap_delta_s,
    me.gap_to_leader_s
from mre_summaries.lap_progression me
join mre_summaries.lap_progression leader
  on leader.race_id = me.race_id
 and leader.lap_number = me.lap_number
 and leader.driver_id = me.leader_driver_id
where me.source = :source
  and me.source_race_id = :source_race_id
  and me.driver_id = (select d.driver_id from mre_summaries.driver_race_summary d
                      where d.source = :source and d.source_race_id = :source_race_id
                        and d.source_driver_id = :source_driver_id)
  and me.cumulative_time_s <= :first_seconds
order by me.lap_number
""".strip()

# "Am I more consistent on this track than last year?" One row per year at the track, with the
# change against the previous year the driver raced there.
CONSISTENCY_BY_YEAR = """
select
    h.race_year,
    h.races,
    h.laps,
    h.best_lap_s,
    h.mean_lap_s,
    h.consistency_pct,
    h.consistency_pct - lag(h.consistency_pct) over (order by h.race_year) as consistency_change_pct,
    h.mean_drop_off_pct,
    h.classes
from mre_summaries.driver_track_history h
where h.source = :source
  and h.source_driver_id = :source_driver_id
  and h.track_slug = :track_slug
  and h.race_year between :year - 1 and :year
order by h.race_year
""".strip()

COACHING_QUERIES = {
    "lap_time_drop_off": LAP_TIME_DROP_OFF,
    "versus_leader_opening": VERSUS_LEADER_OPENING,
    "consistency_by_year": CONSISTENCY_BY_YEAR,
}
