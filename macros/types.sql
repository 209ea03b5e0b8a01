{#-
    dbt.type_float() is `float`, which is 8 bytes on PostgreSQL but 4 bytes on DuckDB and Spark (about seven
    significant digits: an annual income of 1234567.89 would read 1234567.875). Ratios, scores and risk
    features are meant as double precision on every engine, so that the same model gives the same figures
    (tests/pytest/test_cross_engine.py compares floats to 1e-9). These override dbt's default for two adapters;
    dbt looks for <adapter>__type_float in the root project first.
-#}
{% macro duckdb__type_float() %}{{ return('double') }}{% endmacro %}

{% macro spark__type_float() %}{{ return('double') }}{% endmacro %}
