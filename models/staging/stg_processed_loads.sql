/* grain: one row per contract table and load (contract v2) whose rows are in staging: the record of the loads
   processed, with how many of each load's rows were checked and how many set aside. Empty for a delivery of
   full extracts (no load). */

with

{% set tables = ['customers', 'invoices', 'payments', 'collection_actions', 'fx_rates'] %}

per_load as (
    {%- for table_name in tables %}
    select
        '{{ table_name }}' as source_table,
        source_load,
        count(*) as rows_in_staging,
        count(reason_code) as rows_set_aside
    from {{ ref('stg_' ~ table_name ~ '_checked') }}
    where source_load is not null
    group by source_load
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

final as (
    select
        source_table,
        source_load,
        rows_in_staging,
        rows_set_aside
    from per_load
)

select * from final
