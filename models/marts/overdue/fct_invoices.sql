/* grain: one row per posted invoice issued on or before the as-of date (credit notes and void documents
   excluded), with what is paid and unpaid as of that date */
-- depends_on: {{ ref('aging_buckets') }}

with

as_of as (select as_of_date from {{ ref('int_as_of_date') }}),

invoices as (select * from {{ ref('stg_invoices') }}),

allocation as (select * from {{ ref('int_payment_allocation') }}),

fx_daily as (select * from {{ ref('stg_fx_rates_daily') }}),

paid as (
    select
        invoice_id,
        sum(allocated_amount) as paid_amount,
        min(allocation_date) as first_allocation_date,
        max(allocation_date) as last_allocation_date
    from allocation
    group by invoice_id
),

settled as (
    select
        invoices.invoice_id,
        invoices.customer_id,
        invoices.invoice_date,
        invoices.due_date,
        invoices.currency,
        invoices.amount,
        invoices.amount_base,
        cast(coalesce(paid.paid_amount, 0) as {{ money_type() }}) as paid_amount,
        cast(invoices.amount - coalesce(paid.paid_amount, 0) as {{ money_type() }}) as outstanding_amount,
        paid.first_allocation_date,
        case when invoices.amount - coalesce(paid.paid_amount, 0) <= 0 then paid.last_allocation_date end as settled_date,
        as_of.as_of_date
    from invoices
    cross join as_of
    left join paid on invoices.invoice_id = paid.invoice_id
    where {{ posted_as_of('invoice') }}
),

revalued as (
    select
        settled.*,
        -- what is still unpaid converts at the as-of date's rate (revaluation)
        {{ amount_to_base('settled.outstanding_amount', 'settled.currency', 'fx_as_of.rate_to_base') }}
            as outstanding_base,
        {{ days_past_due('settled.due_date', 'settled.as_of_date', 'settled.outstanding_amount') }} as days_past_due
    from settled
    left join fx_daily as fx_as_of
        on settled.currency = fx_as_of.currency
       and settled.as_of_date = fx_as_of.rate_day
),

final as (
    select
        -- keys
        invoice_id,
        customer_id,
        -- dates
        as_of_date,
        invoice_date,
        due_date,
        first_allocation_date,
        settled_date,
        -- amounts (document currency)
        currency,
        amount,
        paid_amount,
        outstanding_amount,
        -- amounts (base currency)
        amount_base,
        outstanding_base,
        -- lateness
        case
            when settled_date is not null and settled_date > due_date
            then {{ dbt.datediff('due_date', 'settled_date', 'day') }}
            when settled_date is not null then 0
        end as days_late,
        days_past_due,
        {{ aging_bucket('days_past_due') }} as aging_bucket,
        -- flags
        settled_date is null as is_open,
        days_past_due > 0 as is_past_due
    from revalued
)

select * from final
