select
    event_id,
    source,
    source_event_id,
    track_id,
    name as event_name,
    start_date as event_start_date,
    end_date as event_end_date,
    starts_at_utc as event_starts_at_utc,
    ends_at_utc as event_ends_at_utc,
    ingest_depth,
    last_ingested_at,
    results_state,
    results_changed_at
from {{ source('mre', 'events') }}
