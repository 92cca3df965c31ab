select
    race_id,
    source,
    source_race_id,
    event_id,
    section,
    race_number,
    class_name,
    session_label,
    round_label,
    length_label,
    completed_at,
    locator,
    lead_in_counted
from {{ source('mre', 'races') }}
