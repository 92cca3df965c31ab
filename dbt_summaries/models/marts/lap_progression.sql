-- One row per timed lap, for lap-time and position-over-time graphs and driver overlays, for every source.
-- Cumulative time is race time: the laps so far plus the lead-in the source counts in its totals (Everlaps
-- heats with races.lead_in_counted; NULL, so nothing, for LiveRC), so the last lap's equals
-- driver_race_summary.race_time_s and gaps compare what the source ranks on.
-- Leader at lap N = the driver in position 1 after lap N (if the source shows several, the earliest to
-- complete lap N; if none, the earliest to complete it at all). The leader's own gap is 0 by definition.
-- Maintained per event, like driver_race_summary (whose rows of the same events it reads).
{{ config(
    indexes=[
        {'columns': ['race_result_id', 'lap_number'], 'unique': True},
        {'columns': ['event_id']},
        {'columns': ['race_id', 'lap_number']},
    ],
) }}

with laps as (

    select
        l.race_result_id,
        s.race_id,
        s.source,
        s.source_race_id,
        s.event_id,
        s.track_slug,
        s.driver_id,
        s.source_driver_id,
        s.driver_name,
        s.class_name,
        s.session_label,
        l.lap_number,
        l.lap_time_s,
        l.position,
        s.lead_in_time_s,
        coalesce(s.lead_in_time_s, 0) + sum(l.lap_time_s) over (
            partition by l.race_result_id order by l.lap_number rows unbounded preceding
        ) as cumulative_time_s,
        avg(l.lap_time_s) over (
            partition by l.race_result_id order by l.lap_number rows between 4 preceding and current row
        ) as rolling_5_lap_avg_s,
        count(*) over (
            partition by l.race_result_id order by l.lap_number rows between 4 preceding and current row
        ) as rolling_5_lap_count,
        s.median_lap_s,
        s.best_lap_s
    from {{ ref('stg_laps') }} as l
    join {{ ref('driver_race_summary') }} as s on s.race_result_id = l.race_result_id
    where {{ summary_event_filter('s.event_id') }}

),

leaders as (

    select distinct on (race_id, lap_number)
        race_id,
        lap_number,
        driver_id as leader_driver_id,
        cumulative_time_s as leader_cumulative_time_s
    from laps
    order by race_id, lap_number, (position = 1) desc nulls last, cumulative_time_s, driver_id

)

select
    l.race_result_id,
    l.race_id,
    l.source,
    l.source_race_id,
    l.event_id,
    l.track_slug,
    l.driver_id,
    l.source_driver_id,
    l.driver_name,
    l.class_name,
    l.session_label,
    l.lap_number,
    l.lap_time_s,
    l.position,
    l.lead_in_time_s,
    l.cumulative_time_s,
    ld.leader_driver_id,
    ld.leader_cumulative_time_s,
    case
        when l.position = 1 then 0
        else l.cumulative_time_s - ld.leader_cumulative_time_s
    end as gap_to_leader_s,
    round(l.rolling_5_lap_avg_s, 3) as rolling_5_lap_avg_s,
    l.rolling_5_lap_count,
    l.lap_time_s - l.median_lap_s as delta_to_own_median_s,
    l.lap_time_s - l.best_lap_s as delta_to_own_best_s
from laps as l
join leaders as ld on ld.race_id = l.race_id and ld.lap_number = l.lap_number
