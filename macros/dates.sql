{#-
    The run date and the document cutoff (issue 20: the as-of date never runs ahead of the real date).
    var run_date (YYYY-MM-DD) is the day the run stands in; null means the day the build runs (current_date).
    The pipeline always passes it (scripts/run_pipeline.py --run-date, default today).
    Documents and contacts dated after the cutoff are set aside as `future_date`. The cutoff is the run date,
    unless var as_of_date asks for a later day (a simulation), which then is the cutoff.
-#}
{% macro run_date_sql() -%}
    {%- if var('run_date', none) -%}
        cast('{{ var("run_date") }}' as date)
    {%- else -%}
        current_date
    {%- endif -%}
{%- endmacro %}

{% macro document_cutoff_sql() -%}
    {%- set as_of = var('as_of_date', none) -%}
    {%- set run_date = var('run_date', none) -%}
    {%- if as_of and run_date -%}
        cast('{{ [as_of | string, run_date | string] | max }}' as date)
    {%- elif as_of -%}
        greatest(cast('{{ as_of }}' as date), current_date)
    {%- else -%}
        {{ run_date_sql() }}
    {%- endif -%}
{%- endmacro %}

{#-
    day_series(start_date, end_date, from_relations, day_column, carry): one row per day from start_date to
    end_date (both included) for each row of from_relations, with the columns in `carry`. Days come from a
    digits table (100,000 days at most: 270 years), so the series needs no engine-specific generator.
-#}
{% macro day_series(start_date, end_date, from_relations, day_column='calendar_day', carry=[]) -%}
    select
        {%- for column in carry %}
        {{ column }},
        {%- endfor %}
        cast({{ dbt.dateadd('day', 'day_offsets.day_offset', start_date) }} as date) as {{ day_column }}
    from {{ from_relations }}
    cross join (
        select {{ integers_value(5) }} as day_offset
        from {{ integers(5) }}
    ) as day_offsets
    where day_offsets.day_offset <= {{ dbt.datediff(start_date, end_date, 'day') }}
{%- endmacro %}
