{{ config(severity='error') }}
/*
    Conservation of rows, per contract table: every raw input row appears exactly once in stg_<table>_checked,
    and raw rows = staged rows (stg_<table>) + quarantined rows (stg_quarantine).
    If this fails, staging lost or duplicated input rows (a join that fans out, a filter without a reason code,
    a quarantine branch missing from stg_quarantine): the contract's promise that no row is ever silently
    dropped is broken. The raw side is read through raw_source(), exactly as staging reads it.
*/
{%- set tables = ['customers', 'invoices', 'payments', 'collection_actions', 'fx_rates'] %}

with

{% for table_name in tables %}
raw_{{ table_name }} as (
    {{ raw_source(table_name) }}
),
{% endfor %}

quarantine as (select * from {{ ref('stg_quarantine') }}),

counts as (
    {%- for table_name in tables %}
    select
        '{{ table_name }}' as source_table,
        (select count(*) from raw_{{ table_name }}) as raw_rows,
        (select count(*) from {{ ref('stg_' ~ table_name ~ '_checked') }}) as checked_rows,
        (select count(*) from {{ ref('stg_' ~ table_name) }}) as staged_rows,
        (select count(*) from quarantine where source_table = '{{ table_name }}') as quarantined_rows
    {{ 'union all' if not loop.last }}
    {%- endfor %}
)

select *
from counts
where raw_rows <> checked_rows
   or raw_rows <> staged_rows + quarantined_rows
