/* grain: one row per check (daily, weekly, monthly) x pair of consecutive check dates x customer that was
   past due on either date: its state on both dates and what changed (newly overdue, worsened, improved,
   cured, unchanged) */
-- depends_on: {{ ref('aging_buckets') }}

with

history as (select * from {{ ref('fct_customer_aging_history') }}),

as_of as (select as_of_date from {{ ref('int_as_of_date') }}),

snapshot_dates as (select * from {{ ref('int_snapshot_dates') }}),

check_dates as (
    select 'monthly' as check_type, snapshot_date from snapshot_dates where is_month_end
    union all
    select 'weekly' as check_type, snapshot_dates.snapshot_date
    from snapshot_dates
    cross join as_of
    where snapshot_dates.is_week_end
      and {{ dbt.datediff('snapshot_dates.snapshot_date', 'as_of.as_of_date', 'day') }} < 7 * {{ var('history_weekly_weeks') }}
    union all
    select 'daily' as check_type, snapshot_dates.snapshot_date
    from snapshot_dates
    cross join as_of
    where {{ dbt.datediff('snapshot_dates.snapshot_date', 'as_of.as_of_date', 'day') }} < {{ var('history_daily_days') }}
),

check_pairs as (
    select
        check_type,
        lag(snapshot_date) over (partition by check_type order by snapshot_date) as previous_date,
        snapshot_date as check_date
    from check_dates
),

past_due as (
    select customer_id, snapshot_date, days_past_due, aging_bucket, aging_bucket_order, overdue_base,
           outstanding_base, is_overdue
    from history
    where days_past_due > 0
),

pairs as (
    select check_pairs.check_type, check_pairs.previous_date, check_pairs.check_date, past_due.customer_id
    from check_pairs
    inner join past_due on past_due.snapshot_date = check_pairs.previous_date
    union
    select check_pairs.check_type, check_pairs.previous_date, check_pairs.check_date, past_due.customer_id
    from check_pairs
    inner join past_due on past_due.snapshot_date = check_pairs.check_date
    where check_pairs.previous_date is not null
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
