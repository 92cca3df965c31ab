select
    event_id,
    source,
    source_event_id,
    track_id,
    name as event_name,
    start_date as event_start_date,
    end_date as event_end_date,
    ingest_depth,
    last_ingested_at
from {{ source('mre', 'events') }}
