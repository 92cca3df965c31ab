{#- The batch of events a build refreshes.

    Dagster passes the event ids in the environment variable MRE_SUMMARY_EVENT_IDS ("12,34,56"); by hand,
    pass them as a var: `dbt build --vars '{summary_event_ids: [12, 34]}'`. No batch means a full build:
    every incremental model is rebuilt from scratch (see should_full_refresh below).

    Both are read only while executing, never while parsing: dbt re-parses the whole project when --vars
    change and re-parses the files that read an env var when its value changes, which would cost every
    build seconds. Returns a list of ints, or none for a full build. -#}
{% macro summary_event_ids() %}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set raw = var('summary_event_ids', none) -%}
    {%- if raw is none -%}
        {%- set raw = env_var('MRE_SUMMARY_EVENT_IDS', '') -%}
    {%- endif -%}
    {%- if raw is string -%}
        {%- set raw = raw.replace(' ', '').split(',') if raw.strip() else [] -%}
    {%- elif raw is number -%}
        {%- set raw = [raw] -%}
    {%- endif -%}
    {%- set ids = [] -%}
    {%- for item in raw -%}
        {%- if not (item | string).isdigit() -%}
            {{ exceptions.raise_compiler_error("summary_event_ids must be event ids (integers), got " ~ item) }}
        {%- endif -%}
        {%- do ids.append(item | int) -%}
    {%- endfor -%}
    {%- if not ids -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if flags.FULL_REFRESH -%}
        {{ exceptions.raise_compiler_error("--full-refresh rebuilds every event: do not pass summary_event_ids with it") }}
    {%- endif -%}
    {{ return(ids | unique | sort | list) }}
{% endmacro %}


{#- SQL predicate "column is one of the batch's events" ("true" in a full build). -#}
{% macro summary_event_filter(column) %}
    {%- set ids = summary_event_ids() -%}
    {%- if ids is none -%}
        true
    {%- else -%}
        {{ column }} in ({{ ids | join(', ') }})
    {%- endif -%}
{% endmacro %}


{#- The version of the models' SQL the pipeline asked for (recorded in summary_watermark, so the sensor
    rebuilds events whose rows an older version of the models produced). NULL for builds by hand. -#}
{% macro summary_models_version() %}
    {%- set version = env_var('MRE_SUMMARY_MODELS_VERSION', '') if execute else '' -%}
    {%- if version and not version.isalnum() -%}
        {{ exceptions.raise_compiler_error("MRE_SUMMARY_MODELS_VERSION must be alphanumeric") }}
    {%- endif -%}
    {{ return("'" ~ version ~ "'" if version else "null") }}
{% endmacro %}


{#- A build without a batch rebuilds every incremental model from scratch (a new table swapped in, as with
    --full-refresh), rather than deleting and re-inserting every row of the existing one. -#}
{% macro should_full_refresh() %}
    {%- set config_full_refresh = config.get('full_refresh') -%}
    {%- if config_full_refresh is none -%}
        {%- set config_full_refresh = flags.FULL_REFRESH -%}
    {%- endif -%}
    {%- if not config_full_refresh and config.get('materialized') == 'incremental' -%}
        {%- set config_full_refresh = summary_event_ids() is none -%}
    {%- endif -%}
    {{ return(config_full_refresh) }}
{% endmacro %}


{#- Incremental strategy "replace_batch": delete the batch's rows from the target, then insert the freshly
    computed ones, in the model's transaction (readers see the old rows until it commits). Deleting by the
    batch rather than by the new rows' keys is what makes races, drivers and whole events that vanished
    upstream disappear. The model says which rows are the batch's with config summary_replace_key:
    'event_id', or 'driver_track_year' for the history rollup. -#}
{% macro get_incremental_replace_batch_sql(arg_dict) %}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set key = config.require('summary_replace_key') -%}
    {%- if summary_event_ids() is none -%}
        {{ exceptions.raise_compiler_error("replace_batch runs only with a batch of events") }}
    {%- endif -%}
    delete from {{ target }}
    where
    {%- if key == 'event_id' %} {{ summary_event_filter('event_id') }}
    {%- elif key == 'driver_track_year' %}
        (driver_id, track_id, race_year) in ({{ history_keys_in_batch() }})
    {%- else -%}
        {{ exceptions.raise_compiler_error("unknown summary_replace_key " ~ key) }}
    {%- endif %};

    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }};
{% endmacro %}


{#- The (driver, track, year) rows of driver_track_history a batch touches: those its events fed before
    this build (summary_batch_history_keys, taken before driver_race_summary changed) and those they feed
    now. A driver dropped from an event loses the event from their history; a key left with no races
    disappears. -#}
{% macro history_keys_in_batch() %}
    select driver_id, track_id, race_year from {{ ref('summary_batch_history_keys') }}
    union
    select driver_id, track_id, race_year from {{ ref('driver_race_summary') }}
    where {{ summary_event_filter('event_id') }}
{% endmacro %}


{#- Post-hook of summary_watermark: when this build (re)created the staging views, record which version
    of the models did, as the watermark table's comment; the sensor recreates them only when it differs. -#}
{% macro record_staging_version() %}
    {%- set version = summary_models_version() -%}
    {%- if execute and version != 'null' and 'model.mre_summaries.stg_laps' in selected_resources -%}
        comment on table {{ this }} is {{ version }}
    {%- endif -%}
{% endmacro %}
