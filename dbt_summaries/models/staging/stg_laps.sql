select
    race_result_id,
    lap_number,
    lap_time_s,
    position
from {{ source('mre', 'laps') }}
