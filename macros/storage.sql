{#-
    `select * from final {{ sorted_before_write(['customer_id', 'snapshot_date']) }}`: on DuckDB the model's rows
    are sorted before they are written. For a model whose last step is a large, wide aggregate (many groups,
    many money sums), DuckDB writing the aggregate's output straight into the new table can stop with "Out of
    Memory Error: could not allocate block" at some memory limits and not at others (at 100,000 customers the
    history's write failed at 360-410 MB and passed at 350 and 420-650 MB), though the same query read by an
    aggregate over every column passed at 300 MB. A sort between the aggregate and the write takes the rows as
    they come, spills, and hands them on in order: with it the history's write passed from 225 MB up and failed
    at 150-200 MB, half the memory where the unsorted write failed (docs/decisions.md, "A wide aggregate is
    sorted before it is written"). The stored rows are clustered by the keys too. Spark and PostgreSQL write
    aggregates without this; a global sort there costs a shuffle or a sort for nothing: no clause.
-#}
{% macro sorted_before_write(columns) -%}
    {{ return(adapter.dispatch('sorted_before_write', 'arrears')(columns)) }}
{%- endmacro %}

{% macro default__sorted_before_write(columns) -%}
{%- endmacro %}

{% macro duckdb__sorted_before_write(columns) -%}
    order by {{ columns | join(', ') }}
{%- endmacro %}
