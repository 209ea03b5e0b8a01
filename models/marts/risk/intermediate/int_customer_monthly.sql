/* grain: one row per customer per month end, from the month of the customer's first invoice to the last month
   end on or before the as-of date: what was billed and paid in the month, contacts by outcome, and the
   balance and DPD at the month end (zero when nothing was unpaid) */

{#- Incremental (macros/restated.sql): a daily run recomputes the customers whose documents, contacts or record
    changed, and everyone when a month end passes; the other customers' rows stay. -#}
{{ config(**per_customer_incremental(monthly=true)) }}

with
{{- restated_cte() }}

month_ends as (
    select snapshot_date as month_end, cast({{ dbt.date_trunc('month', 'snapshot_date') }} as date) as month_start
    from {{ ref('int_snapshot_dates') }}
    where is_month_end
),

-- imports read more than once are read again, not copied (macros/cte.sql)
invoices as {{ not_materialized() }} (select * from {{ ref('fct_invoices') }}{{ only_restated() }}),

-- void (reversed or bounced) payments are ignored downstream
payments as (select * from {{ ref('stg_payments') }} where not coalesce(is_void, false){{ only_restated('and') }}),

actions as (select * from {{ ref('stg_collection_actions') }}{{ only_restated() }}),

history as (select * from {{ ref('fct_customer_aging_history') }}{{ only_restated() }}),

first_invoice as (
    select customer_id, min(invoice_date) as first_invoice_date
    from invoices
    group by customer_id
),

grid as (
    select first_invoice.customer_id, month_ends.month_end, month_ends.month_start
    from first_invoice
    inner join month_ends on month_ends.month_end >= first_invoice.first_invoice_date
),

billed as (
    select customer_id, {{ month_end_of('invoice_date') }} as month_end,
           sum(amount_base) as billed_base, count(*) as invoice_count
    from invoices
    group by customer_id, {{ month_end_of('invoice_date') }}
),

paid as (
    select customer_id, {{ month_end_of('payment_date') }} as month_end,
           sum(amount_base) as paid_base, count(*) as payment_count, max(payment_date) as last_payment_date
    from payments
    group by customer_id, {{ month_end_of('payment_date') }}
),

contacted as (
    select
        customer_id,
        {{ month_end_of('action_date') }} as month_end,
        count(*) as contact_count,
        sum(case when outcome in ({{ sql_list(contact_outcomes('unreached')) }}) then 1 else 0 end) as unreached_count,
        sum(case when outcome = 'refused' then 1 else 0 end) as refusal_count,
        sum(case when outcome = 'promise_to_pay' then 1 else 0 end) as promise_count,
        sum(case when outcome = 'hardship' then 1 else 0 end) as hardship_count,
        sum(case when outcome = 'dispute' then 1 else 0 end) as dispute_count
    from actions
    group by customer_id, {{ month_end_of('action_date') }}
),

final as (
    select
        -- keys
        grid.customer_id,
        grid.month_end,
        -- activity in the month
        cast(coalesce(billed.billed_base, 0) as {{ money_type() }}) as billed_base,
        coalesce(billed.invoice_count, 0) as invoice_count,
        cast(coalesce(paid.paid_base, 0) as {{ money_type() }}) as paid_base,
        coalesce(paid.payment_count, 0) as payment_count,
        paid.last_payment_date,
        coalesce(contacted.contact_count, 0) as contact_count,
        coalesce(contacted.unreached_count, 0) as unreached_count,
        coalesce(contacted.refusal_count, 0) as refusal_count,
        coalesce(contacted.promise_count, 0) as promise_count,
        coalesce(contacted.hardship_count, 0) as hardship_count,
        coalesce(contacted.dispute_count, 0) as dispute_count,
        -- state at the month end
        cast(coalesce(history.outstanding_base, 0) as {{ money_type() }}) as outstanding_base,
        cast(coalesce(history.overdue_base, 0) as {{ money_type() }}) as overdue_base,
        coalesce(history.days_past_due, 0) as days_past_due
    from grid
    left join billed on grid.customer_id = billed.customer_id and grid.month_end = billed.month_end
    left join paid on grid.customer_id = paid.customer_id and grid.month_end = paid.month_end
    left join contacted on grid.customer_id = contacted.customer_id and grid.month_end = contacted.month_end
    left join history on grid.customer_id = history.customer_id and grid.month_end = history.snapshot_date
)

select * from final
