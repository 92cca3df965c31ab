-- One row per driver, track and year ("am I more consistent here than last year?"). Year comes from
-- the race's completion date (track-local), else the event's start date (always, for Everlaps).
-- Keyed by source as well: driver_id and track_id are warehouse ids, each of one source's driver or track
-- (mre.drivers is unique on source + source_driver_id), so a LiveRC and an Everlaps driver never share a
-- row, even when their source_driver_id numbers are equal. An Everlaps driver id names one registration,
-- not a person (README, "Sources"): an Everlaps row covers one event's races, and following a racer
-- across Everlaps events goes by name.
-- Maintained per (driver, track, year): a batch recomputes the keys its events feed now or fed before
-- (macros/summary_batch.sql, history_keys_in_batch), from every event of those keys.
-- depends_on: {{ ref('summary_batch_history_keys') }}
{{ config(
    summary_replace_key='driver_track_year',
    indexes=[{'columns': ['driver_id', 'track_id', 'race_year'], 'unique': True}],
) }}

with rollup as (

    select
        source,
        driver_id,
        track_id,
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
    {%- if summary_event_ids() is not none %}
    where (driver_id, track_id, race_year) in ({{ history_keys_in_batch() }})
    {%- endif %}
    group by source, driver_id, track_id, race_year

)

-- Names as they are now (the race rows keep the names of their own build).
select
    r.driver_id,
    r.source,
    d.source_driver_id,
    d.driver_name,
    r.track_id,
    t.track_slug,
    r.race_year,
    r.events,
    r.races,
    r.races_started,
    r.laps,
    r.best_lap_s,
    r.best_lap_class_name,
    r.mean_lap_s,
    r.consistency_pct,
    r.worst_race_consistency_pct,
    r.best_race_consistency_pct,
    r.mean_drop_off_pct,
    r.first_race_date,
    r.last_race_date,
    r.classes
from rollup as r
join {{ ref('stg_drivers') }} as d on d.driver_id = r.driver_id
join {{ ref('stg_tracks') }} as t on t.track_id = r.track_id
