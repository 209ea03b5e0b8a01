/* grain: one row per check (daily, weekly, monthly) x pair of consecutive check dates x customer that was
   past due on either date: its state on both dates and what changed (newly overdue, worsened, improved,
   cured, unchanged) */
-- depends_on: {{ ref('aging_buckets') }}

{#-
    Incremental (docs/decisions.md, "Overdue monitoring adds the new checks"): a pair of check dates stands
    until the history under it changes, so a daily run computes (1) the pairs not stored yet, for every
    customer (a new check date, or a check whose previous date changed as the daily and weekly windows
    moved), and (2) every pair of the customers whose history was restated (the history's `__restated`).
    The pre-hook first deletes those customers' rows and the pairs no longer current. Everything is
    recomputed when this model cannot build on the history's record (macros/monitoring.sql: the history was
    rebuilt from scratch, did not run in this invocation, or ran once without this model). The result equals
    a full refresh. A table rebuilt in full on Spark.
-#}
{{ config(
    materialized = 'table' if target.type == 'spark' else 'incremental',
    incremental_strategy = 'append',
    pre_hook = ["{% if is_incremental() %}{{ monitoring_delete(this) }}{% endif %}"],
    post_hook = monitoring_post_hooks(),
) }}

with

history as (select * from {{ ref('fct_customer_aging_history') }}),

check_pairs as (
    {{ monitoring_check_pairs() }}
),

{%- set history_restated = monitoring_history_restated() %}
{%- if is_incremental() %}

-- the pairs this run computes for every customer: those not stored (the pre-hook removed the stale ones)
stored_pairs as (select distinct check_type, previous_date, check_date from {{ this }}),

pairs_to_build as (
    select
        check_pairs.check_type,
        check_pairs.previous_date,
        check_pairs.check_date,
        stored_pairs.check_type is null as is_new
    from check_pairs
    left join stored_pairs
        on check_pairs.check_type = stored_pairs.check_type
       and check_pairs.check_date = stored_pairs.check_date
       and check_pairs.previous_date = stored_pairs.previous_date
),
{%- else %}

pairs_to_build as (select check_type, previous_date, check_date, true as is_new from check_pairs),
{%- endif %}

past_due as (
    select customer_id, snapshot_date, days_past_due, aging_bucket, aging_bucket_order, overdue_base,
           outstanding_base, is_overdue
    from history
    where days_past_due > 0
    {%- if is_incremental() %}
      -- only the rows the pairs below read: the dates of the new pairs, every date of the restated customers
      -- (read four times, DuckDB copies this CTE: at 1,000,000 customers 15.7 M rows, now those of about 2 dates)
      and (snapshot_date in (select previous_date from pairs_to_build where is_new)
           or snapshot_date in (select check_date from pairs_to_build where is_new)
      {%- if history_restated is not none %}
           or customer_id in (select customer_id from {{ history_restated }})
      {%- endif %})
    {%- endif %}
),

-- every customer at a new pair; the restated customers at every pair (incremental runs)
pairs as (
    select pairs_to_build.check_type, pairs_to_build.previous_date, pairs_to_build.check_date, past_due.customer_id
    from pairs_to_build
    inner join past_due on past_due.snapshot_date = pairs_to_build.previous_date
    {{ monitoring_scope(history_restated) }}
    union
    select pairs_to_build.check_type, pairs_to_build.previous_date, pairs_to_build.check_date, past_due.customer_id
    from pairs_to_build
    inner join past_due on past_due.snapshot_date = pairs_to_build.check_date
    where pairs_to_build.previous_date is not null
    {{- monitoring_scope(history_restated, 'and') }}
),

-- a customer past due on one date only was not past due (the seed's bucket of 0 days) on the other
compared as (
    select
        pairs.check_type,
        pairs.previous_date,
        pairs.check_date,
        pairs.customer_id,
        coalesce(before_state.days_past_due, 0) as previous_days_past_due,
        coalesce(before_state.aging_bucket, {{ aging_bucket('0') }}) as previous_aging_bucket,
        coalesce(before_state.aging_bucket_order, {{ aging_bucket_order('0') }}) as previous_bucket_order,
        coalesce(before_state.overdue_base, 0) as previous_overdue_base,
        coalesce(before_state.is_overdue, false) as was_overdue,
        coalesce(after_state.days_past_due, 0) as days_past_due,
        coalesce(after_state.aging_bucket, {{ aging_bucket('0') }}) as aging_bucket,
        coalesce(after_state.aging_bucket_order, {{ aging_bucket_order('0') }}) as bucket_order,
        coalesce(after_state.overdue_base, 0) as overdue_base,
        coalesce(after_state.outstanding_base, 0) as outstanding_base,
        coalesce(after_state.is_overdue, false) as is_overdue
    from pairs
    left join past_due as before_state
        on before_state.customer_id = pairs.customer_id and before_state.snapshot_date = pairs.previous_date
    left join past_due as after_state
        on after_state.customer_id = pairs.customer_id and after_state.snapshot_date = pairs.check_date
),

final as (
    select
        -- keys
        check_type,
        check_date,
        customer_id,
        previous_date,
        -- before
        previous_days_past_due,
        previous_aging_bucket,
        cast(previous_overdue_base as {{ money_type() }}) as previous_overdue_base,
        was_overdue,
        -- after
        days_past_due,
        aging_bucket,
        cast(overdue_base as {{ money_type() }}) as overdue_base,
        cast(outstanding_base as {{ money_type() }}) as outstanding_base,
        is_overdue,
        -- what changed
        case
            when is_overdue and not was_overdue then 'newly_overdue'
            when was_overdue and not is_overdue then 'cured'
            when bucket_order > previous_bucket_order then 'worsened'
            when bucket_order < previous_bucket_order then 'improved'
            else 'unchanged'
        end as change_type
    from compared
)

select * from final
