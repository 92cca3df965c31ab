-- Each result's laps appear once each and the final cumulative time equals the summary's race time (its
-- laps plus the lead-in the source counts).
-- Reads two models: with indirect_selection cautious (dbt_project.yml) it runs only when both were built
-- by the same invocation, never after a build of driver_race_summary alone.
{{ config(meta={'dagster': {'ref': {'name': 'lap_progression'}}}) }}

with per_result as (
    select race_result_id, count(*) as laps, max(cumulative_time_s) as final_cumulative_s
    from {{ summary_scoped(ref('lap_progression'), alias='lp') }}
    group by race_result_id
)

select s.race_result_id, s.laps, p.laps as lap_progression_laps
from {{ summary_scoped(ref('driver_race_summary'), alias='s') }}
left join per_result p on p.race_result_id = s.race_result_id
where coalesce(p.laps, 0) <> s.laps
   or p.final_cumulative_s is distinct from case when s.laps > 0 then s.race_time_s end
