/* grain: one row per customer with any valid invoice, credit note or payment (void ones included): a hash of
   everything staged about those documents, plus the FX rates they are valued at */

{#-
    Change detection for the incremental models (docs/decisions.md, "Which customers a daily run restates"):
    a customer whose fingerprint differs from the one an incremental model stored at its last run has a new,
    corrected or voided document, and that model recomputes the customer in full. The FX rates enter every
    customer's fingerprint (a corrected historical rate changes every base amount), so a changed rate
    restates everyone. Computed from staging on every run: one scan, no join.
-#}

with

invoices as (select * from {{ ref('stg_invoices') }}),

payments as (select * from {{ ref('stg_payments') }}),

fx_rates as (select * from {{ ref('stg_fx_rates') }}),

document_hashes as (
    select
        customer_id,
        {{ row_hash(["'invoice'", 'invoice_id', 'invoice_date', 'due_date', 'amount', 'currency', 'document_type',
                     'status']) }} as row_hash
    from invoices
    union all
    select
        customer_id,
        {{ row_hash(["'payment'", 'payment_id', 'invoice_id', 'payment_date', 'amount', 'currency', 'status']) }}
            as row_hash
    from payments
),

fx_fingerprint as (
    select coalesce(bit_xor({{ row_hash(['currency', 'rate_date', 'rate_to_base']) }}), 0) as fx_hash
    from fx_rates
),

final as (
    select
        document_hashes.customer_id,
        bit_xor(document_hashes.row_hash) as document_fingerprint,
        max(fx_fingerprint.fx_hash) as fx_fingerprint
    from document_hashes
    cross join fx_fingerprint
    group by document_hashes.customer_id
)

select * from final
