-- Event and track-year rollups account for every race and lap exactly once.
{{ config(meta={'dagster': {'ref': {'name': 'driver_track_history'}}}) }}

select 'event' as rollup, sum(races) as races, sum(laps) as laps from {{ ref('driver_event_summary') }}
having sum(races) is distinct from (select count(*) from {{ ref('driver_race_summary') }})
    or sum(laps) is distinct from (select sum(laps) from {{ ref('driver_race_summary') }})
union all
select 'track_year', sum(races), sum(laps) from {{ ref('driver_track_history') }}
having sum(races) is distinct from (select count(*) from {{ ref('driver_race_summary') }})
    or sum(laps) is distinct from (select sum(laps) from {{ ref('driver_race_summary') }})
