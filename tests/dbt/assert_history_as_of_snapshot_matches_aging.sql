{{ config(severity='error') }}
/*
    The history's snapshot at the as-of date equals today's customer aging: same customers with something unpaid,
    same outstanding, past-due and overdue amounts (base currency, to the cent), DPD and open invoice count.
    If this fails, the history recomputation (outstanding at a snapshot = amount - pieces allocated by then,
    revalued at the snapshot date) has drifted from fct_customer_aging, so trends, monitoring and roll rates
    disagree with the current figures. Skipped when the as-of date is not a snapshot date (history_daily_days = 0).
*/

with

as_of as (select as_of_date from {{ ref('int_as_of_date') }}),

snapshot_dates as (select * from {{ ref('int_snapshot_dates') }}),

aging as (
    select *
    from {{ ref('fct_customer_aging') }}
    where open_invoice_count > 0
),

history_at_as_of as (
    select history.*
    from {{ ref('fct_customer_aging_history') }} as history
    inner join as_of on history.snapshot_date = as_of.as_of_date
),

compared as (
    select
        coalesce(aging.customer_id, history_at_as_of.customer_id) as customer_id,
        aging.outstanding_base as aging_outstanding_base,
        history_at_as_of.outstanding_base as history_outstanding_base,
        aging.past_due_base as aging_past_due_base,
        history_at_as_of.past_due_base as history_past_due_base,
        aging.overdue_base as aging_overdue_base,
        history_at_as_of.overdue_base as history_overdue_base,
        aging.days_past_due as aging_days_past_due,
        history_at_as_of.days_past_due as history_days_past_due,
        aging.open_invoice_count as aging_open_invoice_count,
        history_at_as_of.open_invoice_count as history_open_invoice_count
    from aging
    full outer join history_at_as_of on aging.customer_id = history_at_as_of.customer_id
)

select *
from compared
where exists (select 1 from snapshot_dates cross join as_of where snapshot_dates.snapshot_date = as_of.as_of_date)
  and (
        aging_outstanding_base is null
     or history_outstanding_base is null
     or aging_outstanding_base <> history_outstanding_base
     or aging_past_due_base <> history_past_due_base
     or aging_overdue_base <> history_overdue_base
     or aging_days_past_due <> history_days_past_due
     or aging_open_invoice_count <> history_open_invoice_count
  )
