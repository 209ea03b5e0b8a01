/* grain: one row per posted invoice issued on or before the as-of date (credit notes and void documents
   excluded), with what is paid and unpaid as of that date */
-- depends_on: {{ ref('aging_buckets') }}

{#-
    A view: the as-of projection of int_invoice_settlement (what moves with the calendar alone: days past due,
    bucket, the revaluation of what is unpaid at the as-of date's rate) on top of the settlement state, which
    a daily run recomputes only for the customers that changed. Materialising it rewrote every invoice each day
    (half the model's daily cost at 100,000 customers); reading it costs one join with the day's rates.
-#}
{{ config(materialized='view') }}

with

as_of as (select as_of_date from {{ ref('int_as_of_date').include(database=false) }}),

settlement as (select * from {{ ref('int_invoice_settlement').include(database=false) }}),

fx_daily as (select * from {{ ref('stg_fx_rates_daily').include(database=false) }}),

revalued as (
    select
        settlement.*,
        as_of.as_of_date,
        -- what is still unpaid converts at the as-of date's rate (revaluation)
        {{ amount_to_base('settlement.outstanding_amount', 'settlement.currency', 'fx_as_of.rate_to_base') }}
            as outstanding_base,
        {{ days_past_due('settlement.due_date', 'as_of.as_of_date', 'settlement.outstanding_amount') }}
            as days_past_due
    from settlement
    cross join as_of
    left join fx_daily as fx_as_of
        on settlement.currency = fx_as_of.currency
       and as_of.as_of_date = fx_as_of.rate_day
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
        days_late,
        days_past_due,
        {{ aging_bucket('days_past_due') }} as aging_bucket,
        -- flags
        settled_date is null as is_open,
        days_past_due > 0 as is_past_due
    from revalued
)

select * from final
