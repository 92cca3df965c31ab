-- Best 3 consecutive (self-join on lap numbers), top-5/top-10 averages (ORDER BY ... LIMIT) and the
-- first/last thirds (lap-number ranges), recomputed a second way. Assumes lap numbers 1..n, as stored.
{{ config(meta={'dagster': {'ref': {'name': 'driver_race_summary'}}}) }}

with recomputed as (
    select
        s.race_result_id,
        (select min(a.lap_time_s + b.lap_time_s + c.lap_time_s)
         from {{ ref('stg_laps') }} a
         join {{ ref('stg_laps') }} b on b.race_result_id = a.race_result_id and b.lap_number = a.lap_number + 1
         join {{ ref('stg_laps') }} c on c.race_result_id = a.race_result_id and c.lap_number = a.lap_number + 2
         where a.race_result_id = s.race_result_id) as best_3_consecutive_s,
        case when s.laps >= 5 then (select avg(t) from (select lap_time_s t from {{ ref('stg_laps') }} l
            where l.race_result_id = s.race_result_id order by lap_time_s limit 5) x) end as avg_top5_s,
        case when s.laps >= 10 then (select avg(t) from (select lap_time_s t from {{ ref('stg_laps') }} l
            where l.race_result_id = s.race_result_id order by lap_time_s limit 10) x) end as avg_top10_s,
        (select avg(lap_time_s) from {{ ref('stg_laps') }} l
         where l.race_result_id = s.race_result_id and l.lap_number <= s.laps / 3) as first_third_avg_s,
        (select avg(lap_time_s) from {{ ref('stg_laps') }} l
         where l.race_result_id = s.race_result_id and s.laps >= 3
           and l.lap_number > s.laps - s.laps / 3) as last_third_avg_s
    from {{ summary_scoped(ref('driver_race_summary'), alias='s') }}
)

select s.race_result_id
from {{ summary_scoped(ref('driver_race_summary'), alias='s') }}
join recomputed r on r.race_result_id = s.race_result_id
where s.best_3_consecutive_s is distinct from r.best_3_consecutive_s
   or (s.avg_top5_s is null) <> (r.avg_top5_s is null) or abs(s.avg_top5_s - r.avg_top5_s) > 0.0005
   or (s.avg_top10_s is null) <> (r.avg_top10_s is null) or abs(s.avg_top10_s - r.avg_top10_s) > 0.0005
   or (s.first_third_avg_s is null) <> (r.first_third_avg_s is null)
   or abs(s.first_third_avg_s - r.first_third_avg_s) > 0.0005
   or (s.last_third_avg_s is null) <> (r.last_third_avg_s is null)
   or abs(s.last_third_avg_s - r.last_third_avg_s) > 0.0005
   or abs(s.drop_off_s - (r.last_third_avg_s - r.first_third_avg_s)) > 0.001
