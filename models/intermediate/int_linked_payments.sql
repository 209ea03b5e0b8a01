/* grain: one row per payment dated on or before the as-of date: how much of it pays the invoice it names
   (in the invoice's currency) and what is left over as customer credit */

{#-
    Incremental (macros/restated.sql): a daily run recomputes only the customers with a document dated since
    the previous run's as-of date or changed since (fingerprint), after deleting their rows (pre-hook); every
    other customer's rows stand. A full refresh computes everyone. The result equals a full refresh.
-#}
{{ config(**per_customer_incremental()) }}

with

as_of as (select as_of_date from {{ ref('int_as_of_date') }}),
{{- restated_cte() }}

invoices as (select * from {{ ref('stg_invoices') }}{{ only_restated() }}),

-- void (reversed or bounced) payments are ignored downstream
payments as (
    select * from {{ ref('stg_payments') }}
    where not coalesce(is_void, false){{ only_restated('and') }}
),

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
        invoices.invoice_date,
        invoices.amount as invoice_amount
    from invoices
    cross join as_of
    where {{ posted_as_of('invoice') }}
),

-- every payment, with the payable invoice it names if any; one in another currency than its invoice also
-- needs the invoice currency's rate on the payment date (that currency's rates may start after the payment):
-- without it the payment cannot pay the invoice and is credit in its own currency. One pass with left
-- joins, so a payment is either linked or credit without an anti-join back to the payments
candidates as (
    select
        payments_as_of.payment_id,
        payments_as_of.customer_id,
        payments_as_of.payment_date,
        payments_as_of.amount as payment_amount,
        payments_as_of.currency as payment_currency,
        payable_invoices.invoice_id,
        payable_invoices.invoice_currency,
        payable_invoices.invoice_date,
        payable_invoices.invoice_amount,
        -- a payment in another currency than its invoice converts at the payment date's rates:
        -- payment -> base (exact decimal product) -> invoice currency; only for those (a 128-bit product
        -- for every payment costs seconds at 1,000,000 customers)
        case when payments_as_of.currency <> payable_invoices.invoice_currency
             then payments_as_of.amount * payments_as_of.fx_rate_to_base end as payment_base_exact,
        {{ rate_to_base('payable_invoices.invoice_currency', 'invoice_fx.rate_to_base') }} as invoice_rate_to_base,
        payable_invoices.invoice_id is not null
            and (payments_as_of.currency = payable_invoices.invoice_currency
                 or payable_invoices.invoice_currency = '{{ var("base_currency") }}'
                 or invoice_fx.rate_to_base is not null) as is_linked
    from payments_as_of
    left join payable_invoices on payments_as_of.invoice_id = payable_invoices.invoice_id
    left join fx_daily as invoice_fx
        on payable_invoices.invoice_currency = invoice_fx.currency
       and payments_as_of.payment_date = invoice_fx.rate_day
),

linked as (
    select * from candidates where is_linked
),

-- a payment in another currency than its invoice pays the exact quotient of its base amount and the
-- invoice currency's rate, rounded half up to the cent (divide_round: decimal division is floating point on
-- some engines, which would round some half-cent ties the wrong way)
converted_exact as (
    select
        payment_id,
        customer_id,
        payment_date,
        payment_amount,
        payment_currency,
        invoice_id,
        invoice_currency,
        invoice_date,
        invoice_amount,
        case
            when payment_currency = invoice_currency then payment_amount
            else cast({{ divide_round('payment_base_exact', 'invoice_rate_to_base', 2) }} as {{ money_type() }})
        end as amount_in_invoice_currency
    from linked
),

-- invoices paid by more than one linked payment: only their payments need a running total of what was paid
-- before them (most invoices have one payment; a window over every linked payment sorts them all)
multi_paid_invoices as (
    select invoice_id
    from converted_exact
    group by invoice_id
    having count(*) > 1
),

linked_running as (
    select
        converted_exact.*,
        cast(0 as {{ money_type() }}) as paid_before
    from converted_exact
    left join multi_paid_invoices on converted_exact.invoice_id = multi_paid_invoices.invoice_id
    where multi_paid_invoices.invoice_id is null

    union all

    select
        converted_exact.*,
        coalesce(sum(converted_exact.amount_in_invoice_currency) over (
            partition by converted_exact.invoice_id order by converted_exact.payment_date, converted_exact.payment_id
            rows between unbounded preceding and 1 preceding
        ), 0) as paid_before
    from converted_exact
    inner join multi_paid_invoices on converted_exact.invoice_id = multi_paid_invoices.invoice_id
),

linked_applied as (
    select
        payment_id,
        customer_id,
        payment_date,
        invoice_id,
        invoice_date,
        invoice_currency as currency,
        amount_in_invoice_currency,
        invoice_amount,
        case
            when invoice_amount - paid_before <= 0 then cast(0 as {{ money_type() }})
            when amount_in_invoice_currency < invoice_amount - paid_before then amount_in_invoice_currency
            else cast(invoice_amount - paid_before as {{ money_type() }})
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
        invoice_date,
        currency,
        amount_in_invoice_currency as payment_amount,
        applied_amount,
        cast(amount_in_invoice_currency - applied_amount as {{ money_type() }}) as credit_amount,
        invoice_amount
    from linked_applied

    union all

    -- unapplied payments, and payments naming an invoice that cannot take them (void, a credit note,
    -- issued after the as-of date, or no rate to convert): all of it is customer credit in the payment's currency
    select
        payment_id,
        customer_id,
        payment_date,
        cast(null as {{ dbt.type_string() }}) as invoice_id,
        cast(null as date) as invoice_date,
        payment_currency as currency,
        payment_amount,
        cast(0 as {{ money_type() }}) as applied_amount,
        payment_amount as credit_amount,
        cast(null as {{ money_type() }}) as invoice_amount
    from candidates
    where not is_linked
)

select * from final
