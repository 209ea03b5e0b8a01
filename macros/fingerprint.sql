{#-
    row_hash(columns): a 64-bit hash of one row's values (nulls included), for change detection.
    Aggregated per customer with bit_xor (order-independent; rows of one key are unique in staging, so no two
    equal rows cancel). Same input, same hash, on one engine; never compared across engines.
-#}
{% macro row_hash(columns) -%}
    {{ return(adapter.dispatch('row_hash', 'arrears')(columns)) }}
{%- endmacro %}

{% macro duckdb__row_hash(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__row_hash(columns) -%}
    xxhash64({{ columns | join(', ') }})
{%- endmacro %}

{% macro default__row_hash(columns) -%}
    ('x' || left(md5(concat_ws('|'
    {%- for column in columns %}, coalesce(cast({{ column }} as {{ dbt.type_string() }}), '\N'){% endfor -%}
    )), 16))::bit(64)::bigint
{%- endmacro %}
