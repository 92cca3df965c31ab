-- A driver without laps has laps = 0 and no lap statistics (never an error, never a made-up zero).
{{ config(meta={'dagster': {'ref': {'name': 'driver_race_summary'}}}) }}

select race_result_id
from {{ summary_scoped(ref('driver_race_summary'), alias='s') }}
where laps = 0
  and (started or total_time_s is not null or best_lap_s is not null or mean_lap_s is not null
       or median_lap_s is not null or stddev_lap_s is not null or consistency_pct is not null
       or best_3_consecutive_s is not null or avg_top5_s is not null or avg_top10_s is not null
       or first_third_avg_s is not null or last_third_avg_s is not null or drop_off_s is not null
       or gap_to_winner_s is not null)
