select
    event_entry_id,
    event_id,
    class_name,
    driver_name,
    sort_name,
    transponder
from {{ source('mre', 'event_entries') }}
