-- The driver in position 1 on a lap is the leader: their gap must be exactly 0. Nobody completes a
-- lap number before its leader does unless the source lists no P1 for that lap.
{{ config(meta={'dagster': {'ref': {'name': 'lap_progression'}}}) }}

select race_result_id, lap_number, gap_to_leader_s
from {{ summary_scoped(ref('lap_progression'), alias='lp') }}
where (position = 1 and gap_to_leader_s <> 0)
   or (driver_id = leader_driver_id and gap_to_leader_s <> 0)
