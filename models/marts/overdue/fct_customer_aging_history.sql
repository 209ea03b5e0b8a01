/* grain: one row per customer per snapshot date (int_snapshot_dates) on which the customer had anything
   unpaid: outstanding, overdue and bucket amounts, DPD; grows with customers x snapshots, not x days */
-- depends_on: {{ ref('aging_buckets') }}

{#-
    Incremental rule (docs/decisions.md): a customer's history depends only on its own documents, so a run
    recomputes (1) every snapshot date not stored yet (`<model>__new_dates`), for all customers, and (2) all
    snapshot dates of the customers whose past moved (`<model>__restated`, macros/history_restated.sql): a
    document changed or an FX rate it used was corrected, or a new document moved money the allocation had
    applied on or before the previous as-of date. Their old rows are deleted first (pre-hooks) and the computed
    rows appended (macros/restated.sql, strategy `restate`: a new date's rows cannot be stored yet, the new
    dates being those the table lacks). Snapshot dates no longer kept are deleted after, and the state,
    fingerprints and rates this run was built from are stored (post-hooks). The result equals a full refresh
    (the daily-loads equality tests).
-#}
{{ config(
    materialized = 'table' if target.type == 'spark' else 'incremental',
    incremental_strategy = 'restate',
    pre_hook = history_pre_hooks(),
    meta = {'restates_customers': true, 'sliced_full_build': true},
    post_hook = [
        "{{ insert_customer_slices() }}",
        "{% if target.type != 'spark' %}delete from {{ this }} where snapshot_date not in (select snapshot_date from {{ ref('int_snapshot_dates') }}){% endif %}"
    ] + history_post_hooks(),
) }}

with

snapshot_dates as (select * from {{ ref('int_snapshot_dates') }}),

calendar_days as (select * from {{ ref('int_calendar_days') }}),

-- a full build on DuckDB computes one range of customers at a time (macros/slices.sql)
invoices as (select * from {{ ref('fct_invoices') }}{{ customer_slice() }}),

allocation as (select * from {{ ref('int_payment_allocation') }}{{ customer_slice() }}),

fx_daily as (select * from {{ ref('stg_fx_rates_daily') }}),

-- one past the last snapshot: the end of the span of an invoice still open at the as-of date
past_last as (select max(snapshot_seq) + 1 as snapshot_seq from snapshot_dates),

-- the snapshot dates this run computes for every customer: all of them on a full build, the new ones on an
-- incremental run; and the customers whose every snapshot is recomputed (incremental runs only)
-- a full refresh reads one table here, an incremental run two: the qualifiers stay (RF03 off for this CTE)
-- noqa: disable=RF03
dates_to_build as (
    select
        snapshot_dates.snapshot_date,
        snapshot_dates.snapshot_seq,
        snapshot_dates.is_month_end,
        snapshot_dates.is_week_end,
        {%- if is_incremental() %}
        new_dates.snapshot_date is not null as is_new_date
    from snapshot_dates
    left join {{ companion_relation(this, 'new_dates') }} as new_dates
        on snapshot_dates.snapshot_date = new_dates.snapshot_date
        {%- else %}
        true as is_new_date
    from snapshot_dates
        {%- endif %}
),
-- noqa: enable=RF03

-- read only by incremental runs (a full refresh compiles it unused, hence the noqa)
restated_customers as (  -- noqa: ST03
    {%- if is_incremental() %}
    select customer_id from {{ companion_relation(this, 'restated') }}
    {%- else %}
    select cast(null as {{ dbt.type_string() }}) as customer_id {{ empty_relation_filter() }}
    {%- endif %}
),

-- each invoice's span of snapshots, as sequence numbers found by equality joins: open from the first
-- snapshot on or after its invoice date up to (not including) the first one on or after its settled date;
-- nothing is applied to it at the snapshots before the first one on or after its first allocation
invoice_spans as (
    select
        invoices.invoice_id,
        invoices.customer_id,
        invoices.currency,
        invoices.due_date,
        invoices.amount,
        issued.next_snapshot_seq as first_seq,
        coalesce(settled.next_snapshot_seq, past_last.snapshot_seq) as end_seq,
        coalesce(first_paid.next_snapshot_seq, past_last.snapshot_seq) as first_paid_seq
    from invoices
    cross join past_last
    inner join calendar_days as issued on invoices.invoice_date = issued.calendar_day
    left join calendar_days as settled on invoices.settled_date = settled.calendar_day
    left join calendar_days as first_paid on invoices.first_allocation_date = first_paid.calendar_day
    {%- if is_incremental() %}
    -- only what this run computes: invoices open at a new date (settled after the first one) and the
    -- restated customers' invoices
    where invoices.settled_date is null
       or invoices.settled_date > (select min(snapshot_date) from dates_to_build where is_new_date)
       or invoices.customer_id in (select customer_id from restated_customers)
    {%- endif %}
),

-- every distinct span with the snapshot dates in it: small (at most snapshots^3 / 6 rows), so joining the
-- invoices to it is an equality join, streaming, however many invoices there are
span_dates as (
    select
        spans.first_seq,
        spans.end_seq,
        dates_to_build.snapshot_date,
        dates_to_build.snapshot_seq,
        dates_to_build.is_month_end,
        dates_to_build.is_week_end,
        dates_to_build.is_new_date
    from (select distinct first_seq, end_seq from invoice_spans where first_seq < end_seq) as spans
    inner join dates_to_build
        on dates_to_build.snapshot_seq >= spans.first_seq
       and dates_to_build.snapshot_seq < spans.end_seq
),

-- invoices issued and not yet settled at each snapshot date: every invoice at the new dates, and the
-- restated customers' invoices at the other dates
open_at_snapshot as (
    {%- for part in (['new_dates', 'restated'] if is_incremental() else ['new_dates']) %}
    {{ 'union all' if not loop.first }}
    select
        invoice_spans.invoice_id,
        invoice_spans.customer_id,
        invoice_spans.currency,
        invoice_spans.due_date,
        invoice_spans.amount,
        span_dates.snapshot_date,
        span_dates.snapshot_seq,
        span_dates.is_month_end,
        span_dates.is_week_end
    from invoice_spans
    {%- if part == 'restated' %}
    inner join restated_customers on invoice_spans.customer_id = restated_customers.customer_id
    {%- endif %}
    inner join span_dates
        on invoice_spans.first_seq = span_dates.first_seq
       and invoice_spans.end_seq = span_dates.end_seq
    where {{ 'span_dates.is_new_date' if part == 'new_dates' else 'not span_dates.is_new_date' }}
    {%- endfor %}
),

-- what was applied by each snapshot date to an invoice still open then, for the few snapshots between an
-- invoice's first allocation and its settlement (partly paid invoices); every other open snapshot owes the
-- whole amount. Kept apart so the large open_at_snapshot is read once, streaming
partly_paid as (
    select
        invoice_spans.invoice_id,
        span_dates.snapshot_seq,
        sum(allocation.allocated_amount) as paid_amount
    from invoice_spans
    inner join span_dates
        on invoice_spans.first_seq = span_dates.first_seq
       and invoice_spans.end_seq = span_dates.end_seq
    inner join allocation
        on invoice_spans.invoice_id = allocation.invoice_id
       and allocation.allocation_date <= span_dates.snapshot_date
    where invoice_spans.first_paid_seq < invoice_spans.end_seq
      and span_dates.snapshot_seq >= invoice_spans.first_paid_seq
      {%- if is_incremental() %}
      -- only what open_at_snapshot holds: the new dates, and the restated customers' other dates
      and (span_dates.is_new_date or invoice_spans.customer_id in (select customer_id from restated_customers))
      {%- endif %}
    group by invoice_spans.invoice_id, span_dates.snapshot_seq
),

invoice_state as (
    select
        open_at_snapshot.*,
        cast(open_at_snapshot.amount - coalesce(partly_paid.paid_amount, 0) as {{ money_type() }}) as outstanding_amount
    from open_at_snapshot
    left join partly_paid
        on open_at_snapshot.invoice_id = partly_paid.invoice_id
       and open_at_snapshot.snapshot_seq = partly_paid.snapshot_seq
),

invoice_state_base as (
    select
        invoice_state.customer_id,
        invoice_state.snapshot_date,
        invoice_state.is_month_end,
        invoice_state.is_week_end,
        {{ amount_to_base('invoice_state.outstanding_amount', 'invoice_state.currency', 'fx.rate_to_base') }}
            as outstanding_base,
        {{ days_past_due('invoice_state.due_date', 'invoice_state.snapshot_date', 'invoice_state.outstanding_amount') }}
            as days_past_due
    from invoice_state
    left join fx_daily as fx
        on invoice_state.currency = fx.currency
       and invoice_state.snapshot_date = fx.rate_day
    where invoice_state.outstanding_amount > 0
),

invoice_bucketed as (
    select
        *,
        {{ aging_bucket('days_past_due') }} as aging_bucket
    from invoice_state_base
),

-- the snapshot kind is the snapshot date's: grouped by, not aggregated (this aggregate is most of the model's
-- full refresh: 107 M open invoice-snapshot rows into 36.5 M groups at 1,000,000 customers)
customer_snapshot as (
    select
        customer_id,
        snapshot_date,
        is_month_end,
        is_week_end,
        sum(outstanding_base) as outstanding_base,
        sum(case when days_past_due > 0 then outstanding_base else 0 end) as past_due_base,
        sum(case when days_past_due > {{ var('overdue_threshold_days') }} then outstanding_base else 0 end) as overdue_base,
        max(days_past_due) as days_past_due,
        count(*) as open_invoice_count,
        {%- for b in aging_bucket_rows() %}
        sum(case when aging_bucket = '{{ b["code"] }}' then outstanding_base else 0 end) as bucket_{{ b['code'] }}_base{{ "," if not loop.last }}
        {%- endfor %}
    from invoice_bucketed
    group by customer_id, snapshot_date, is_month_end, is_week_end
),

final as (
    select
        -- keys
        customer_id,
        snapshot_date,
        -- snapshot kind
        is_month_end,
        is_week_end,
        -- amounts (base currency, revalued at the snapshot date)
        cast(outstanding_base as {{ money_type() }}) as outstanding_base,
        cast(past_due_base as {{ money_type() }}) as past_due_base,
        cast(overdue_base as {{ money_type() }}) as overdue_base,
        {%- for b in aging_bucket_rows() %}
        cast(bucket_{{ b['code'] }}_base as {{ money_type() }}) as bucket_{{ b['code'] }}_base,
        {%- endfor %}
        -- lateness
        days_past_due,
        {{ aging_bucket('days_past_due') }} as aging_bucket,
        {{ aging_bucket_order('days_past_due') }} as aging_bucket_order,
        open_invoice_count,
        -- flags
        overdue_base > {{ var('materiality_floor') }} as is_overdue
    from customer_snapshot
)

-- sorted on DuckDB before it is written: written straight from this wide aggregate, DuckDB can run out of
-- memory at some limits (macros/storage.sql)
select * from final
{{ sorted_before_write(['customer_id', 'snapshot_date']) }}
