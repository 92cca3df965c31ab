-- Every (event, driver) and (driver, track, year) rollup row counts exactly the races and laps of its
-- driver_race_summary rows, each race row has its rollup rows, and no rollup row is left without races
-- (an empty warehouse passes). Reads three models: like every multi-model test it runs only when all of
-- them were built by the same invocation (indirect_selection cautious).
{{ config(meta={'dagster': {'ref': {'name': 'driver_track_history'}}}) }}

with races as (
    select event_id, driver_id, track_id, race_year, laps
    from {{ summary_scoped(ref('driver_race_summary'), alias='s') }}
),

expected_event as (
    select event_id, driver_id, count(*) as races, sum(laps) as laps
    from races
    group by event_id, driver_id
),

expected_history as (
    -- the keys the scoped races feed, counted over every event
    select s.driver_id, s.track_id, s.race_year, count(*) as races, sum(s.laps) as laps
    from {{ ref('driver_race_summary') }} s
    where (s.driver_id, s.track_id, s.race_year) in (select driver_id, track_id, race_year from races)
    group by s.driver_id, s.track_id, s.race_year
)

select 'event' as rollup, coalesce(x.event_id, e.event_id) as event_id,
       coalesce(x.driver_id, e.driver_id) as driver_id, null::bigint as track_id, null::integer as race_year
from expected_event x
full join {{ summary_scoped(ref('driver_event_summary'), alias='e') }}
  on e.event_id = x.event_id and e.driver_id = x.driver_id
where e.event_id is null or x.event_id is null or e.races <> x.races or e.laps <> x.laps

union all

select 'track_year', null, coalesce(x.driver_id, h.driver_id), coalesce(x.track_id, h.track_id),
       coalesce(x.race_year, h.race_year)
from expected_history x
full join {{ summary_scoped(ref('driver_track_history'), alias='h') }}
  on h.driver_id = x.driver_id and h.track_id = x.track_id and h.race_year = x.race_year
where h.driver_id is null or x.driver_id is null or h.races <> x.races or h.laps <> x.laps
