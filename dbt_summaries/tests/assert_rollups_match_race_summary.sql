-- Event and track-year rollups account for every race and lap exactly once (an empty warehouse passes).
{{ config(meta={'dagster': {'ref': {'name': 'driver_track_history'}}}) }}

with totals as (
    select count(*) as races, coalesce(sum(laps), 0) as laps from {{ ref('driver_race_summary') }}
)

select 'event' as rollup, coalesce(sum(races), 0) as races, coalesce(sum(laps), 0) as laps
from {{ ref('driver_event_summary') }}
having coalesce(sum(races), 0) <> (select races from totals)
    or coalesce(sum(laps), 0) <> (select laps from totals)
union all
select 'track_year', coalesce(sum(races), 0), coalesce(sum(laps), 0)
from {{ ref('driver_track_history') }}
having coalesce(sum(races), 0) <> (select races from totals)
    or coalesce(sum(laps), 0) <> (select laps from totals)
