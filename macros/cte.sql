{#-
    `name as {{ not_materialized() }} (select ...)`: an import CTE that several parts of a model read, read
    again by each of them instead of copied once into a temporary result. DuckDB (and PostgreSQL) materialise
    every CTE read more than once; for a plain import of a large table that is a copy of every row of the
    columns the model uses, held in memory or spilled, where a second scan of the stored table costs less
    (docs/decisions.md, "Import CTEs read twice are read again, not copied"). Spark has no such syntax and
    inlines CTEs: nothing to say there. Only for a CTE that imports (a table or view, a filter, a projection):
    a CTE that computes something costly is worth its one evaluation.
-#}
{% macro not_materialized() -%}
    {{ return(adapter.dispatch('not_materialized', 'arrears')()) }}
{%- endmacro %}

{% macro default__not_materialized() -%}
{%- endmacro %}

{% macro duckdb__not_materialized() -%}
    not materialized
{%- endmacro %}

{% macro postgres__not_materialized() -%}
    not materialized
{%- endmacro %}
