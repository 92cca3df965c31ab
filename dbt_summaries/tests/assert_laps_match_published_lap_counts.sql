-- Data check (warn): stored laps agree with the source's published lap count, and the race time (laps plus
-- the lead-in the source counts) with its published total.
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'driver_race_summary'}}}) }}

select race_result_id, laps, published_laps, race_time_s, published_total_time_s
from {{ summary_scoped(ref('driver_race_summary'), alias='s') }}
where laps <> published_laps
   or (published_total_time_s is not null and race_time_s is distinct from published_total_time_s)
