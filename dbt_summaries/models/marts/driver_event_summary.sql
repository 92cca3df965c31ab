-- One row per driver per event. Consistency is the lap-weighted mean of the driver's per-race
-- consistency (a relative figure, so it stays meaningful across classes with different lap times).
-- total_time_s sums the laps alone, race_time_s the race times (with the lead-ins the source counts).
-- Maintained per event, from driver_race_summary's rows of the same events.
{{ config(indexes=[{'columns': ['event_id', 'driver_id'], 'unique': True}]) }}

select
    event_id,
    source,
    source_event_id,
    event_name,
    event_start_date,
    event_starts_at_utc,
    track_id,
    track_slug,
    driver_id,
    source_driver_id,
    driver_name,
    count(*) as races,
    count(*) filter (where started) as races_started,
    sum(laps) as laps,
    sum(total_time_s) as total_time_s,
    sum(race_time_s) as race_time_s,
    min(best_lap_s) as best_lap_s,
    (array_agg(class_name order by best_lap_s nulls last, race_id))[1] as best_lap_class_name,
    round(
        sum(consistency_pct * laps) / nullif(sum(laps) filter (where consistency_pct is not null), 0), 3
    ) as consistency_pct,
    min(finish_position) as best_finish_position,
    string_agg(distinct class_name, ', ' order by class_name) as classes
from {{ ref('driver_race_summary') }}
where {{ summary_event_filter('event_id') }}
group by
    event_id, source, source_event_id, event_name, event_start_date, event_starts_at_utc, track_id, track_slug,
    driver_id, source_driver_id, driver_name
