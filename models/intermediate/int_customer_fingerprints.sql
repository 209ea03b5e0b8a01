/* grain: one row per customer with a valid invoice, credit note, payment (void ones included), contact or
   customer record: a hash of everything staged about each of those */

{#-
    Change detection for the incremental models (docs/decisions.md, "Which customers a daily run restates"):
    a customer whose fingerprint differs from the one an incremental model stored at its last run has a new,
    corrected or voided document, and that model recomputes the customer in full. FX rates are not in the
    fingerprints: each model stores the daily rates it used and restates the customers with documents in a
    currency whose past rate changed (macros/restated.sql), so a daily FX load restates nobody. The contact
    log and the customer record have fingerprints of their own, compared only by the models that read them
    (the month-end models). The month-end models compare fingerprints of the documents and contacts dated on
    or before the latest month end instead (`*_to_month_end`): their rows only read those, so the day's new
    documents restate nobody there, while a correction of an older one still does. Computed from staging on
    every run: one scan each.
-#}

with

-- the latest month end on or before the as-of date: the month-end models' rows read nothing dated after it
latest_month_end as (
    select {{ latest_month_end('as_of_date') }} as month_end from {{ ref('int_as_of_date') }}
),

invoices as (select * from {{ ref('stg_invoices') }}),

payments as (select * from {{ ref('stg_payments') }}),

actions as (select * from {{ ref('stg_collection_actions') }}),

customers as (select * from {{ ref('stg_customers') }}),

document_hashes as (
    select
        customer_id,
        invoice_date as document_date,
        {{ row_hash(["'invoice'", 'invoice_id', 'invoice_date', 'due_date', 'amount', 'currency', 'document_type',
                     'status']) }} as row_hash
    from invoices
    union all
    select
        customer_id,
        payment_date as document_date,
        {{ row_hash(["'payment'", 'payment_id', 'invoice_id', 'payment_date', 'amount', 'currency', 'status']) }}
            as row_hash
    from payments
),

documents as (
    {{ fingerprint_aggregates('document_hashes', 'document_date', 'document_fingerprint', 'latest_month_end') }}
),

contact_hashes as (
    select
        customer_id,
        action_date,
        {{ row_hash(['action_id', 'action_date', 'channel', 'outcome', 'hardship_reason', 'promised_amount',
                     'promised_date']) }} as row_hash
    from actions
),

contacts as (
    {{ fingerprint_aggregates('contact_hashes', 'action_date', 'contact_fingerprint', 'latest_month_end') }}
),

records as (
    select
        customer_id,
        {{ row_hash(['customer_id', 'customer_name', 'customer_type', 'region', 'phone', 'email', 'contact_person',
                     'account_manager', 'credit_limit', 'annual_income', 'total_debt', 'is_key_account',
                     'created_date']) }} as customer_fingerprint
    from customers
),

known_customers as (
    select customer_id from documents
    union
    select customer_id from contacts
    union
    select customer_id from records
),

final as (
    select
        known_customers.customer_id,
        documents.document_fingerprint,
        documents.document_fingerprint_to_month_end,
        contacts.contact_fingerprint,
        contacts.contact_fingerprint_to_month_end,
        records.customer_fingerprint
    from known_customers
    left join documents on known_customers.customer_id = documents.customer_id
    left join contacts on known_customers.customer_id = contacts.customer_id
    left join records on known_customers.customer_id = records.customer_id
)

select * from final
