/* grain: one row per valid payment (payment_id unique); void (reversed or bounced) payments kept and flagged */
{{ config(materialized='view') }}

with

checked as (select * from {{ ref('stg_payments_checked') }}),

final as (
    select
        payment_id,
        customer_id,
        invoice_id,
        payment_date,
        amount,
        currency,
        fx_rate_to_base,
        amount_base,
        method,
        status,
        is_void
    from checked
    where {{ staged_valid_rows() }}
)

select * from final
