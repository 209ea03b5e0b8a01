/* grain: one row per raw input row that broke a contract rule: source table, key, reason code, raw row, and the
   load it came in (contract v2 loads; null for a full extract) */

with

reasons as (select * from {{ ref('quarantine_reason_codes') }}),

{% set tables = [
    ('customers', 'customer_id'),
    ('invoices', 'invoice_id'),
    ('payments', 'payment_id'),
    ('collection_actions', 'action_id'),
    ('fx_rates', 'record_key'),
] %}

rejected as (
    {%- for table_name, key in tables %}
    select
        '{{ table_name }}' as source_table,
        {{ key }} as record_key,
        reason_code,
        raw_row,
        source_load
    from {{ ref('stg_' ~ table_name ~ '_checked') }}
    where reason_code is not null
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

final as (
    select
        rejected.source_table,
        rejected.record_key,
        rejected.reason_code,
        reasons.description as reason_description,
        rejected.raw_row,
        rejected.source_load
    from rejected
    left join reasons on rejected.reason_code = reasons.reason_code
)

select * from final
