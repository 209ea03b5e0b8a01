/* grain: one row per valid invoice or credit note (invoice_id unique); void documents kept and flagged */
{{ config(materialized='view') }}

with

checked as (select * from {{ ref('stg_invoices_checked') }}),

final as (
    select
        invoice_id,
        customer_id,
        invoice_date,
        due_date,
        amount,
        currency,
        fx_rate_to_base,
        amount_base,
        document_type,
        status,
        is_void,
        is_credit_note
    from checked
    where {{ staged_valid_rows() }}
)

select * from final
