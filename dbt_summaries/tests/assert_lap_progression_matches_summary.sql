-- Each result's laps appear once each and the final cumulative time equals the summary's total.
{{ config(meta={'dagster': {'ref': {'name': 'lap_progression'}}}) }}

with per_result as (
    select race_result_id, count(*) as laps, max(cumulative_time_s) as final_cumulative_s
    from {{ ref('lap_progression') }}
    group by race_result_id
)

select s.race_result_id
from {{ ref('driver_race_summary') }} s
left join per_result p on p.race_result_id = s.race_result_id
where coalesce(p.laps, 0) <> s.laps
   or p.final_cumulative_s is distinct from s.total_time_s
