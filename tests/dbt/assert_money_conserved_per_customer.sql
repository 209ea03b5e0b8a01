{{ config(severity='error') }}
/*
    Money conservation per customer and currency, to the cent, as of the as-of date (document currency):
      1. invoiced = allocated + outstanding:   sum(fct_invoices.amount)
                                                = sum(int_payment_allocation.allocated_amount) + sum(fct_invoices.outstanding_amount)
      2. paid = allocated + unapplied credit:  payments (as int_linked_payments applies them) + credit notes
                                                = sum(int_payment_allocation.allocated_amount) + sum(int_customer_credit.unapplied_credit)
    Where the payments come from: assert_payments_reach_the_linking checks that every valid payment reached
    int_linked_payments, with its amount (per customer, so a daily run checks the customers it restated);
    this test reads every customer on every run, the daily ones included.
    If this fails, the allocation created or lost money (a credit used twice, an invoice paid beyond its amount,
    a payment dropped or counted twice), so outstanding balances and DPD cannot be trusted.
*/

with

as_of as (select as_of_date from {{ ref('int_as_of_date') }}),

invoices as (select * from {{ ref('fct_invoices') }}),

allocation as (select * from {{ ref('int_payment_allocation') }}),

linked_payments as (select * from {{ ref('int_linked_payments') }}),

credit as (select * from {{ ref('int_customer_credit') }}),

documents as (select * from {{ ref('stg_invoices') }}),

invoiced as (
    select customer_id, currency, sum(amount) as invoiced, sum(outstanding_amount) as outstanding
    from invoices
    group by customer_id, currency
),

allocated as (
    select customer_id, currency, sum(allocated_amount) as allocated
    from allocation
    group by customer_id, currency
),

money_in as (
    select customer_id, currency, payment_amount as amount
    from linked_payments

    union all

    select documents.customer_id, documents.currency, documents.amount
    from documents
    cross join as_of
    where documents.is_credit_note
      and not documents.is_void
      and documents.invoice_date <= as_of.as_of_date
),

paid as (
    select customer_id, currency, sum(amount) as paid
    from money_in
    group by customer_id, currency
),

unapplied as (
    select customer_id, currency, sum(unapplied_credit) as unapplied
    from credit
    group by customer_id, currency
),

customer_currencies as (
    select customer_id, currency from invoiced
    union
    select customer_id, currency from allocated
    union
    select customer_id, currency from paid
    union
    select customer_id, currency from unapplied
),

balances as (
    select
        customer_currencies.customer_id,
        customer_currencies.currency,
        coalesce(invoiced.invoiced, 0) as invoiced,
        coalesce(invoiced.outstanding, 0) as outstanding,
        coalesce(allocated.allocated, 0) as allocated,
        coalesce(paid.paid, 0) as paid,
        coalesce(unapplied.unapplied, 0) as unapplied
    from customer_currencies
    left join invoiced
        on customer_currencies.customer_id = invoiced.customer_id and customer_currencies.currency = invoiced.currency
    left join allocated
        on customer_currencies.customer_id = allocated.customer_id and customer_currencies.currency = allocated.currency
    left join paid
        on customer_currencies.customer_id = paid.customer_id and customer_currencies.currency = paid.currency
    left join unapplied
        on customer_currencies.customer_id = unapplied.customer_id and customer_currencies.currency = unapplied.currency
),

failures as (
    select
        'invoiced <> allocated + outstanding' as failed_check,
        customer_id,
        currency,
        invoiced as expected_amount,
        allocated + outstanding as actual_amount
    from balances
    where invoiced <> allocated + outstanding

    union all

    select
        'paid <> allocated + unapplied credit' as failed_check,
        customer_id,
        currency,
        paid as expected_amount,
        allocated + unapplied as actual_amount
    from balances
    where paid <> allocated + unapplied
)

select * from failures
