-- One row per event whose summaries are built: the last_ingested_at they were built from and when. The
-- summaries sensor builds every event whose mre.events.last_ingested_at differs from
-- built_from_ingested_at (or that has no row). Built last: a build that fails leaves it behind.
-- depends_on: {{ ref('lap_progression') }}
-- depends_on: {{ ref('driver_event_summary') }}
-- depends_on: {{ ref('driver_track_history') }}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_batch',
    summary_replace_key='event_id',
    on_schema_change='sync_all_columns',
    indexes=[{'columns': ['event_id'], 'unique': True}],
    post_hook="{{ record_staging_version() }}",
) }}

select
    event_id,
    built_from_ingested_at,
    now() as built_at,
    {{ summary_models_version() }}::text as models_version
from {{ ref('summary_batch') }}
