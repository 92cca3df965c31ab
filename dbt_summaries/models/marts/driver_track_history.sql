-- One row per driver, track and year ("am I more consistent here than last year?"). Year comes from
-- the race's completion date (track-local), else the event's start date.

select
    driver_id,
    source_driver_id,
    driver_name,
    track_id,
    track_slug,
    race_year,
    count(distinct event_id) as events,
    count(*) as races,
    count(*) filter (where started) as races_started,
    sum(laps) as laps,
    min(best_lap_s) as best_lap_s,
    (array_agg(class_name order by best_lap_s nulls last, race_id))[1] as best_lap_class_name,
    round(sum(total_time_s) / nullif(sum(laps), 0), 3) as mean_lap_s,
    round(
        sum(consistency_pct * laps) / nullif(sum(laps) filter (where consistency_pct is not null), 0), 3
    ) as consistency_pct,
    min(consistency_pct) as worst_race_consistency_pct,
    max(consistency_pct) as best_race_consistency_pct,
    round(avg(drop_off_pct), 3) as mean_drop_off_pct,
    min(race_date) as first_race_date,
    max(race_date) as last_race_date,
    string_agg(distinct class_name, ', ' order by class_name) as classes
from {{ ref('driver_race_summary') }}
group by driver_id, source_driver_id, driver_name, track_id, track_slug, race_year
