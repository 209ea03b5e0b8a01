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

{#- A customer's fingerprint `name` over the hashed rows `hashes` (columns customer_id, row_hash and the row's
    date `date_column`), and `<name>_to_month_end` over the rows dated on or before the month end in the
    one-row relation `month_end` (column month_end), both aggregated per customer (int_customer_fingerprints). -#}
{% macro fingerprint_aggregates(hashes, date_column, name, month_end) -%}
    select
        {{ hashes }}.customer_id,
        bit_xor({{ hashes }}.row_hash) as {{ name }},
        bit_xor(case when {{ hashes }}.{{ date_column }} <= {{ month_end }}.month_end then {{ hashes }}.row_hash end)
            as {{ name }}_to_month_end
    from {{ hashes }}
    cross join {{ month_end }}
    group by {{ hashes }}.customer_id
{%- endmacro %}
