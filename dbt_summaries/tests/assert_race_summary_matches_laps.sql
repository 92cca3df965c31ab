-- Recompute count, total, best, mean and stddev straight from the laps; any difference fails.
{{ config(meta={'dagster': {'ref': {'name': 'driver_race_summary'}}}) }}

with recomputed as (
    select
        rr.race_result_id,
        (select count(*) from {{ ref('stg_laps') }} l where l.race_result_id = rr.race_result_id) as laps,
        (select sum(lap_time_s) from {{ ref('stg_laps') }} l where l.race_result_id = rr.race_result_id)
            as total_time_s,
        (select min(lap_time_s) from {{ ref('stg_laps') }} l where l.race_result_id = rr.race_result_id)
            as best_lap_s,
        (select avg(lap_time_s) from {{ ref('stg_laps') }} l where l.race_result_id = rr.race_result_id)
            as mean_lap_s,
        (select percentile_cont(0.5) within group (order by lap_time_s::float8)
         from {{ ref('stg_laps') }} l where l.race_result_id = rr.race_result_id) as median_lap_s,
        (select case when count(*) > 1 then stddev_pop(lap_time_s) end
         from {{ ref('stg_laps') }} l where l.race_result_id = rr.race_result_id) as stddev_lap_s
    from {{ summary_scoped(ref('stg_race_results'), alias='rr') }}
)

select s.race_result_id
from {{ summary_scoped(ref('driver_race_summary'), alias='s') }}
full join recomputed r on r.race_result_id = s.race_result_id
where s.race_result_id is null
   or r.race_result_id is null
   or s.laps <> r.laps
   or s.total_time_s is distinct from r.total_time_s
   or s.best_lap_s is distinct from r.best_lap_s
   or (s.mean_lap_s is null) <> (r.mean_lap_s is null)
   or abs(s.mean_lap_s - r.mean_lap_s) > 0.0005
   or (s.median_lap_s is null) <> (r.median_lap_s is null)
   or abs(s.median_lap_s - r.median_lap_s::numeric) > 0.0005
   or (s.stddev_lap_s is null) <> (r.stddev_lap_s is null)
   or abs(s.stddev_lap_s - r.stddev_lap_s) > 0.0005
