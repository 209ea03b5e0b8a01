/* grain: one row per posted invoice issued on or before the as-of date (credit notes and void documents
   excluded): what is paid and unpaid after allocation, and when it was settled - everything about an invoice
   that does not move with the calendar alone (fct_invoices adds the as-of projection) */

{#-
    Incremental (macros/restated.sql), like int_payment_allocation which it sums: a daily run recomputes only
    the restated customers (a document dated since the previous run's as-of date, or a new, corrected or voided
    one, or a corrected FX rate), after deleting their rows; every other customer's invoices stand, since
    their allocation did not change. The result equals a full refresh.
-#}
{{ config(**per_customer_incremental()) }}

with

as_of as (select as_of_date from {{ ref('int_as_of_date') }}),
{{- restated_cte() }}

invoices as (select * from {{ ref('stg_invoices') }}{{ only_restated() }}),

allocation as (select * from {{ restated_rows('int_payment_allocation', 'allocation') }}),

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
        case when invoices.amount - coalesce(paid.paid_amount, 0) <= 0 then paid.last_allocation_date end as settled_date
    from invoices
    cross join as_of
    left join paid on invoices.invoice_id = paid.invoice_id
    where {{ posted_as_of('invoice') }}
),

final as (
    select
        -- keys
        invoice_id,
        customer_id,
        -- dates
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
        -- lateness
        case
            when settled_date is not null and settled_date > due_date
            then {{ days_between('due_date', 'settled_date') }}
            when settled_date is not null then 0
        end as days_late
    from settled
)

select * from final
