{#- Use the configured schema verbatim: analysts and grants expect exactly `mre_summaries`,
    not dbt's default `<target schema>_<custom schema>`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
