-- The events this build refreshes and the mre.events.last_ingested_at each is built from, read before
-- any summary reads its data: an ingestion that commits later changes last_ingested_at, so the
-- watermark stays behind and the sensor builds the event again.

select
    event_id,
    last_ingested_at as built_from_ingested_at
from {{ ref('stg_events') }}
where last_ingested_at is not null
  and {{ summary_event_filter('event_id') }}
