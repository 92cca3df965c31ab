{#- Data tests look only at the batch's rows, so a build costs the same at 10 million laps as at 30
    thousand; a full build (no batch) tests everything. Generic tests get this through dbt's
    get_where_subquery (dispatched here by dbt_project.yml); singular tests wrap their refs in
    summary_scoped(). Relations without a rule (small tables) are tested whole. -#}

{#- The predicate that keeps a relation's rows belonging to the batch, or none.

    ``stable``: also leave out events an ingestion changed after this build's summary_batch read them (an
    ingestion may commit while a build runs). Their summary rows may predate the change, so comparing them
    with the live laps would fail the build for nothing; the change makes them due, and the next build
    tests them. A full build (no batch) then tests every event it read. Staging views' own tests pass
    ``stable=false`` and are not scoped at all: they may run before summary_batch and the other views exist
    (dbt orders a test only after the model it tests), a view cannot disagree with itself, and they run only
    in full builds and the first build of a new models version. -#}
{% macro summary_scope_predicate(relation, stable=true) %}
    {%- set ids = summary_event_ids() -%}
    {%- if relation is string or relation.identifier is none or not stable -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set sibling = relation.incorporate(path={'identifier': 'RELATION'}) | string -%}
    {%- set stg_races = sibling.replace('RELATION', 'stg_races') -%}
    {%- set stg_race_results = sibling.replace('RELATION', 'stg_race_results') -%}
    {%- set clauses = [] -%}
    {%- if ids is not none %}{% do clauses.append(summary_event_filter('EVENT_COLUMN')) %}{% endif -%}
    {%- if stable -%}
        {%- do clauses.append(
            'EVENT_COLUMN in (select sb.event_id from ' ~ sibling.replace('RELATION', 'summary_batch')
            ~ ' sb join ' ~ sibling.replace('RELATION', 'stg_events') ~ ' se on se.event_id = sb.event_id'
            ~ ' where se.results_changed_at is null or se.results_changed_at <= sb.built_from_ingested_at)') -%}
    {%- endif -%}
    {%- set on_events = clauses | join(' and ') -%}
    {%- set events = on_events.replace('EVENT_COLUMN', 'event_id') -%}
    {%- set batch_results -%}
        select rr.race_result_id from {{ stg_race_results }} rr
        join {{ stg_races }} ra on ra.race_id = rr.race_id
        where {{ on_events.replace('EVENT_COLUMN', 'ra.event_id') }}
    {%- endset -%}
    {%- set rules = {
        'driver_race_summary': events,
        'lap_progression': events,
        'driver_event_summary': events,
        'summary_watermark': events,
        'summary_batch': events,
        'stg_events': events,
        'stg_races': events,
        'stg_event_entries': events,
        'driver_track_history':
            '(driver_id, track_id, race_year) in (select driver_id, track_id, race_year from '
            ~ sibling.replace('RELATION', 'driver_race_summary') ~ ' where ' ~ events ~ ')',
        'stg_race_results':
            'race_id in (select race_id from ' ~ stg_races ~ ' where ' ~ events ~ ')',
        'stg_laps': 'race_result_id in (' ~ batch_results ~ ')',
        'stg_drivers':
            'driver_id in (select driver_id from ' ~ stg_race_results ~ ' where race_result_id in ('
            ~ batch_results ~ '))',
        'stg_tracks':
            'track_id in (select track_id from ' ~ sibling.replace('RELATION', 'stg_events')
            ~ ' where ' ~ events ~ ')',
    } -%}
    {{ return(rules.get(relation.identifier)) }}
{% endmacro %}


{#- ``relation`` limited to the batch's rows (a subquery), or the relation itself in a full build;
    ``alias`` names it in a FROM clause. -#}
{% macro summary_scoped(relation, where=none, alias=none, stable=true) %}
    {%- set clauses = [] -%}
    {%- set scope = summary_scope_predicate(relation, stable) -%}
    {%- if scope %}{% do clauses.append('(' ~ scope ~ ')') %}{% endif -%}
    {%- if where %}{% do clauses.append('(' ~ where ~ ')') %}{% endif -%}
    {%- if not clauses -%}
        {{ return(relation ~ (' as ' ~ alias if alias else '')) }}
    {%- endif -%}
    {{ return('(select * from ' ~ relation ~ ' where ' ~ clauses | join(' and ') ~ ') as ' ~ (alias or 'dbt_subquery')) }}
{% endmacro %}


{#- dbt's own hook for generic tests' `model` argument (it also applies a test's `where` config). -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set staging = relation is not string and (relation.identifier or '').startswith('stg_') -%}
    {{ return(summary_scoped(relation, config.get('where', ''), stable=not staging)) }}
{%- endmacro %}
