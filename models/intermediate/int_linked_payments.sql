/* grain: one row per payment dated on or before the as-of date: how much of it pays the invoice it names
   (in the invoice's currency) and what is left over as customer credit */

with

as_of as (select as_of_date from {{ ref('int_as_of_date') }}),

invoices as (select * from {{ ref('stg_invoices') }}),

payments as (select * from {{ ref('stg_payments') }}),

fx_daily as (select * from {{ ref('stg_fx_rates_daily') }}),

payments_as_of as (
    select payments.*
    from payments
    cross join as_of
    where payments.payment_date <= as_of.as_of_date
),

-- invoices a payment can pay as of the as-of date: posted, not void, not a credit note, already issued
payable_invoices as (
    select
        invoices.invoice_id,
        invoices.currency as invoice_currency,
        invoices.amount as invoice_amount
    from invoices
    cross join as_of
    where not invoices.is_void
      and not invoices.is_credit_note
      and invoices.invoice_date <= as_of.as_of_date
),

linked as (
    select
        payments_as_of.payment_id,
        payments_as_of.customer_id,
        payments_as_of.payment_date,
        payments_as_of.amount as payment_amount,
        payments_as_of.currency as payment_currency,
        payable_invoices.invoice_id,
        payable_invoices.invoice_currency,
        payable_invoices.invoice_amount,
        -- a payment in another currency than its invoice converts at the payment date's rates
        case
            when payments_as_of.currency = payable_invoices.invoice_currency then payments_as_of.amount
            else cast(round(payments_as_of.amount * payments_as_of.fx_rate_to_base
                / case when payable_invoices.invoice_currency = '{{ var("base_currency") }}' then 1
                       else invoice_fx.rate_to_base end, 2) as decimal(18, 2))
        end as amount_in_invoice_currency
    from payments_as_of
    inner join payable_invoices on payments_as_of.invoice_id = payable_invoices.invoice_id
    left join fx_daily as invoice_fx
        on payable_invoices.invoice_currency = invoice_fx.currency
       and payments_as_of.payment_date = invoice_fx.rate_day
),

linked_running as (
    select
        linked.*,
        coalesce(sum(amount_in_invoice_currency) over (
            partition by invoice_id order by payment_date, payment_id
            rows between unbounded preceding and 1 preceding
        ), 0) as paid_before
    from linked
),

linked_applied as (
    select
        payment_id,
        customer_id,
        payment_date,
        invoice_id,
        invoice_currency as currency,
        amount_in_invoice_currency,
        case
            when invoice_amount - paid_before <= 0 then cast(0 as decimal(18, 2))
            when amount_in_invoice_currency < invoice_amount - paid_before then amount_in_invoice_currency
            else cast(invoice_amount - paid_before as decimal(18, 2))
        end as applied_amount
    from linked_running
),

final as (
    -- payments linked to a payable invoice
    select
        payment_id,
        customer_id,
        payment_date,
        invoice_id,
        currency,
        amount_in_invoice_currency as payment_amount,
        applied_amount,
        cast(amount_in_invoice_currency - applied_amount as decimal(18, 2)) as credit_amount
    from linked_applied

    union all

    -- unapplied payments, and payments naming an invoice that cannot take them (void, a credit note, or
    -- issued after the as-of date): all of it is customer credit in the payment's currency
    select
        payments_as_of.payment_id,
        payments_as_of.customer_id,
        payments_as_of.payment_date,
        cast(null as {{ dbt.type_string() }}) as invoice_id,
        payments_as_of.currency,
        payments_as_of.amount as payment_amount,
        cast(0 as decimal(18, 2)) as applied_amount,
        payments_as_of.amount as credit_amount
    from payments_as_of
    left join payable_invoices on payments_as_of.invoice_id = payable_invoices.invoice_id
    where payable_invoices.invoice_id is null
)

select * from final
