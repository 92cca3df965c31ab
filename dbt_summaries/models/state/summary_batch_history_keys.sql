-- The (driver, track, year) rows of driver_track_history that the batch's events fed BEFORE this build,
-- read from driver_race_summary before it changes (driver_race_summary depends on this model). Keys a
-- re-ingest no longer feeds must be recomputed too, or deleted when nothing else feeds them.
-- It runs after summary_batch, and every summary after it: the watermark a build records must never be
-- newer than the data its summaries read (else an ingestion committed between the two reads would be
-- recorded as built, and its summaries never built).
-- depends_on: {{ ref('summary_batch') }}
{%- set previous = adapter.get_relation(this.database, this.schema, 'driver_race_summary') %}
{%- if previous is not none and summary_event_ids() is not none %}

select distinct driver_id, track_id, race_year
from {{ previous }}
where {{ summary_event_filter('event_id') }}

{%- else %}

select null::bigint as driver_id, null::bigint as track_id, null::integer as race_year
where false

{%- endif %}
