{#-
    dbt.type_float() is `float`, which is 8 bytes on PostgreSQL but 4 bytes on DuckDB and Spark (about seven
    significant digits: an annual income of 1234567.89 would read 1234567.875). Ratios, scores and risk
    features are meant as double precision on every engine, so that the same model gives the same figures
    (tests/pytest/test_cross_engine.py compares floats to 1e-9). These override dbt's default for two adapters;
    dbt looks for <adapter>__type_float in the root project first.
-#}
{% macro duckdb__type_float() %}{{ return('double') }}{% endmacro %}

{% macro spark__type_float() %}{{ return('double') }}{% endmacro %}

{#-
    The type of every money amount (document amounts, base-currency amounts, balances, sums). decimal(38, 2) holds
    any amount a ledger can hold (up to 10^36) on DuckDB, PostgreSQL and Spark; the contract sets no upper limit,
    and a decimal(18, 2) overflowed at 10^16 (and its products with a rate at 10^8). Chosen once, here.
    DuckDB stores it as a 128-bit integer, which the DuckDB profile keeps out of bit-packing (profiles.yml,
    `disabled_compression_methods`): bit-packed, such columns were slow to read back.
-#}
{% macro money_type() -%}
    {{ return(adapter.dispatch('money_type', 'arrears')()) }}
{%- endmacro %}

{% macro default__money_type() -%}
    decimal(38, 2)
{%- endmacro %}
