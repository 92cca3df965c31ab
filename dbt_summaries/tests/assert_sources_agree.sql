-- Two sources share the warehouse: a race row's source is its event's, track's and driver's, and every
-- rollup row carries the source of the race rows it counts, so no figure mixes LiveRC and Everlaps data.
{{ config(meta={'dagster': {'ref': {'name': 'driver_track_history'}}}) }}

select 'race' as model, s.race_result_id as id
from {{ summary_scoped(ref('driver_race_summary'), alias='s') }}
join {{ ref('stg_events') }} e on e.event_id = s.event_id
join {{ ref('stg_tracks') }} t on t.track_id = s.track_id
join {{ ref('stg_drivers') }} d on d.driver_id = s.driver_id
where s.source is distinct from e.source
   or s.source is distinct from t.source
   or s.source is distinct from d.source

union all

select 'event', e.event_id
from {{ summary_scoped(ref('driver_event_summary'), alias='e') }}
join {{ ref('driver_race_summary') }} s on s.event_id = e.event_id and s.driver_id = e.driver_id
where s.source is distinct from e.source

union all

select 'track_year', h.driver_id
from {{ summary_scoped(ref('driver_track_history'), alias='h') }}
join {{ ref('driver_race_summary') }} s
  on s.driver_id = h.driver_id and s.track_id = h.track_id and s.race_year = h.race_year
where s.source is distinct from h.source
