-- The source's own figures keep a published_ prefix (LiveRC's may leave lap 1 out; Everlaps' formulas are
-- its own), so they are never mixed with the statistics dbt computes from the laps. lead_in_time_s is the
-- time before lap 1 that the published total includes (NULL when the total is the laps alone), so for
-- every source: sum(lap times) + coalesce(lead_in_time_s, 0) = published_total_time_s.
select
    race_result_id,
    race_id,
    driver_id,
    position as finish_position,
    car_number,
    qual_position,
    grid_position,
    laps_completed as published_laps,
    total_time_s as published_total_time_s,
    lead_in_time_s,
    behind_text as published_behind_text,
    fastest_lap_s as published_fastest_lap_s,
    fastest_lap_number as published_fastest_lap_number,
    avg_lap_s as published_avg_lap_s,
    avg_top3_s as published_avg_top3_s,
    avg_top5_s as published_avg_top5_s,
    avg_top10_s as published_avg_top10_s,
    avg_top15_s as published_avg_top15_s,
    top3_consecutive_s as published_top3_consecutive_s,
    std_deviation_s as published_std_deviation_s,
    consistency_pct as published_consistency_pct
from {{ source('mre', 'race_results') }}
