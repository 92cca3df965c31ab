{#- Data tests look only at the batch's rows, so a build costs the same at 10 million laps as at 30
    thousand; a full build (no batch) tests everything. Generic tests get this through dbt's
    get_where_subquery (dispatched here by dbt_project.yml); singular tests wrap their refs in
    summary_scoped(). Relations without a rule (small tables) are tested whole. -#}

{#- The predicate that keeps a relation's rows belonging to the batch, or none. -#}
{% macro summary_scope_predicate(relation) %}
    {%- set ids = summary_event_ids() -%}
    {%- if ids is none or relation is string or relation.identifier is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set events = summary_event_filter('event_id') -%}
    {%- set sibling = relation.incorporate(path={'identifier': 'RELATION'}) | string -%}
    {%- set stg_races = sibling.replace('RELATION', 'stg_races') -%}
    {%- set stg_race_results = sibling.replace('RELATION', 'stg_race_results') -%}
    {%- set batch_results -%}
        select rr.race_result_id from {{ stg_race_results }} rr
        join {{ stg_races }} ra on ra.race_id = rr.race_id
        where {{ summary_event_filter('ra.event_id') }}
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
{% macro summary_scoped(relation, where=none, alias=none) %}
    {%- set clauses = [] -%}
    {%- set scope = summary_scope_predicate(relation) -%}
    {%- if scope %}{% do clauses.append('(' ~ scope ~ ')') %}{% endif -%}
    {%- if where %}{% do clauses.append('(' ~ where ~ ')') %}{% endif -%}
    {%- if not clauses -%}
        {{ return(relation ~ (' as ' ~ alias if alias else '')) }}
    {%- endif -%}
    {{ return('(select * from ' ~ relation ~ ' where ' ~ clauses | join(' and ') ~ ') as ' ~ (alias or 'dbt_subquery')) }}
{% endmacro %}


{#- dbt's own hook for generic tests' `model` argument (it also applies a test's `where` config). -#}
{% macro default__get_where_subquery(relation) -%}
    {{ return(summary_scoped(relation, config.get('where', ''))) }}
{%- endmacro %}
