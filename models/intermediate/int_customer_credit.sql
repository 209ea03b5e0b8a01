/* grain: one row per customer per currency with credit as of the as-of date: credit received (unapplied
   payments, linked-payment excess, credit notes), how much of it paid invoices, and what is left unapplied */

with

as_of as (select as_of_date from {{ ref('int_as_of_date') }}),

linked_payments as (select * from {{ ref('int_linked_payments') }}),

invoices as (select * from {{ ref('stg_invoices') }}),

allocation as (select * from {{ ref('int_payment_allocation') }}),

fx_daily as (select * from {{ ref('stg_fx_rates_daily') }}),

credit_in as (
    select customer_id, currency, credit_amount
    from linked_payments
    where credit_amount > 0

    union all

    select invoices.customer_id, invoices.currency, invoices.amount as credit_amount
    from invoices
    cross join as_of
    where {{ posted_as_of('credit_note') }}
),

credit_received as (
    select customer_id, currency, sum(credit_amount) as credit_received
    from credit_in
    group by customer_id, currency
),

credit_used as (
    select customer_id, currency, sum(allocated_amount) as credit_applied
    from allocation
    where source_type <> 'linked_payment'
    group by customer_id, currency
),

final as (
    select
        credit_received.customer_id,
        credit_received.currency,
        as_of.as_of_date,
        cast(credit_received.credit_received as {{ money_type() }}) as credit_received,
        cast(coalesce(credit_used.credit_applied, 0) as {{ money_type() }}) as credit_applied,
        cast(credit_received.credit_received - coalesce(credit_used.credit_applied, 0) as {{ money_type() }})
            as unapplied_credit,
        {{ amount_to_base('(credit_received.credit_received - coalesce(credit_used.credit_applied, 0))',
                          'credit_received.currency', 'fx_as_of.rate_to_base') }} as unapplied_credit_base
    from credit_received
    cross join as_of
    left join credit_used
        on credit_received.customer_id = credit_used.customer_id
       and credit_received.currency = credit_used.currency
    left join fx_daily as fx_as_of
        on credit_received.currency = fx_as_of.currency
       and as_of.as_of_date = fx_as_of.rate_day
)

select * from final
