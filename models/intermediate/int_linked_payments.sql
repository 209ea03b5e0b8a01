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

-- payments naming a payable invoice; one in another currency than its invoice also needs the invoice
-- currency's rate on the payment date (that currency's rates may start after the payment): without it the
-- payment cannot pay the invoice and is credit in its own currency
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
        -- a payment in another currency than its invoice converts at the payment date's rates:
        -- payment -> base (exact decimal product) -> invoice currency
        payments_as_of.amount * payments_as_of.fx_rate_to_base as payment_base_exact,
        case when payable_invoices.invoice_currency = '{{ var("base_currency") }}' then 1
             else invoice_fx.rate_to_base end as invoice_rate_to_base
    from payments_as_of
    inner join payable_invoices on payments_as_of.invoice_id = payable_invoices.invoice_id
    left join fx_daily as invoice_fx
        on payable_invoices.invoice_currency = invoice_fx.currency
       and payments_as_of.payment_date = invoice_fx.rate_day
    where payments_as_of.currency = payable_invoices.invoice_currency
       or payable_invoices.invoice_currency = '{{ var("base_currency") }}'
       or invoice_fx.rate_to_base is not null
),

-- decimal division is floating point on some engines (DuckDB returns a double), which rounds some
-- half-cent ties the wrong way (1.16 / 8 = 0.145 -> 0.14); the rounded quotient is checked against exact
-- decimal products and moved by a cent where needed, so the result is the exact quotient rounded half up
converted as (
    select
        linked.*,
        cast(round(payment_base_exact / invoice_rate_to_base, 2) as decimal(18, 2)) as rough_amount
    from linked
),

converted_exact as (
    select
        payment_id,
        customer_id,
        payment_date,
        payment_amount,
        payment_currency,
        invoice_id,
        invoice_currency,
        invoice_amount,
        case
            when payment_currency = invoice_currency then payment_amount
            when payment_base_exact >= (rough_amount + 0.005) * invoice_rate_to_base
            then cast(rough_amount + 0.01 as decimal(18, 2))
            when payment_base_exact < (rough_amount - 0.005) * invoice_rate_to_base
            then cast(rough_amount - 0.01 as decimal(18, 2))
            else rough_amount
        end as amount_in_invoice_currency
    from converted
),

linked_running as (
    select
        converted_exact.*,
        coalesce(sum(amount_in_invoice_currency) over (
            partition by invoice_id order by payment_date, payment_id
            rows between unbounded preceding and 1 preceding
        ), 0) as paid_before
    from converted_exact
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

    -- unapplied payments, and payments naming an invoice that cannot take them (void, a credit note,
    -- issued after the as-of date, or no rate to convert): all of it is customer credit in the payment's currency
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
    left join linked on payments_as_of.payment_id = linked.payment_id
    where linked.payment_id is null
)

select * from final
