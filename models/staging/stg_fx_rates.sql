/* grain: one row per currency per rate date (valid rates only) */
{{ config(materialized='view') }}

with

checked as (select * from {{ ref('stg_fx_rates_checked') }}),

final as (
    select
        currency,
        rate_date,
        rate_to_base
    from checked
    where {{ staged_valid_rows() }}
)

select * from final
