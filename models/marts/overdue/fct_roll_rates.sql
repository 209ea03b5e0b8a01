/* grain: one row per month end x from-bucket x to-bucket: how customers (count and balance) moved between
   aging buckets from the previous month end; customers with nothing unpaid are in 'settled' */
-- depends_on: {{ ref('aging_buckets') }}

with

history as (select * from {{ ref('fct_customer_aging_history') }}),

month_ends as (
    select
        snapshot_date as month_end,
        lag(snapshot_date) over (order by snapshot_date) as previous_month_end
    from {{ ref('int_snapshot_dates') }}
    where is_month_end
),

monthly as (
    select customer_id, snapshot_date, aging_bucket, aging_bucket_order, outstanding_base
    from history
    where is_month_end
),

transitions as (
    select
        month_ends.month_end,
        coalesce(previous.aging_bucket, 'settled') as from_bucket,
        coalesce(previous.aging_bucket_order, -1) as from_bucket_order,
        coalesce(current_month.aging_bucket, 'settled') as to_bucket,
        coalesce(current_month.aging_bucket_order, -1) as to_bucket_order,
        coalesce(previous.outstanding_base, 0) as from_balance_base,
        coalesce(current_month.outstanding_base, 0) as to_balance_base
    from month_ends
    inner join monthly as previous
        on previous.snapshot_date = month_ends.previous_month_end
    left join monthly as current_month
        on current_month.snapshot_date = month_ends.month_end
       and current_month.customer_id = previous.customer_id

    union all

    -- customers with nothing unpaid at the previous month end who owe something now
    select
        month_ends.month_end,
        'settled' as from_bucket,
        -1 as from_bucket_order,
        current_month.aging_bucket as to_bucket,
        current_month.aging_bucket_order as to_bucket_order,
        0 as from_balance_base,
        current_month.outstanding_base as to_balance_base
    from month_ends
    inner join monthly as current_month
        on current_month.snapshot_date = month_ends.month_end
    left join monthly as previous
        on previous.snapshot_date = month_ends.previous_month_end
       and previous.customer_id = current_month.customer_id
    where previous.customer_id is null
      and month_ends.previous_month_end is not null
),

matrix as (
    select
        month_end,
        from_bucket,
        from_bucket_order,
        to_bucket,
        to_bucket_order,
        count(*) as customer_count,
        sum(from_balance_base) as from_balance_base,
        sum(to_balance_base) as to_balance_base
    from transitions
    group by month_end, from_bucket, from_bucket_order, to_bucket, to_bucket_order
),

with_totals as (
    select
        *,
        sum(from_balance_base) over (partition by month_end, from_bucket) as from_bucket_balance_base,
        sum(customer_count) over (partition by month_end, from_bucket) as from_bucket_customer_count
    from matrix
),

final as (
    select
        -- keys
        month_end,
        from_bucket,
        to_bucket,
        -- ordering
        from_bucket_order,
        to_bucket_order,
        -- measures
        customer_count,
        cast(from_balance_base as {{ money_type() }}) as from_balance_base,
        cast(to_balance_base as {{ money_type() }}) as to_balance_base,
        cast(from_bucket_balance_base as {{ money_type() }}) as from_bucket_balance_base,
        from_bucket_customer_count,
        -- rates: balance now in to_bucket / balance that was in from_bucket a month earlier
        {{ safe_divide('to_balance_base', 'from_bucket_balance_base') }} as balance_rate,
        {{ safe_divide('customer_count', 'from_bucket_customer_count') }} as count_rate,
        -- flags
        from_bucket_order >= 0 and to_bucket_order = from_bucket_order + 1 as is_roll_forward,
        from_bucket_order > 0 and to_bucket_order <= 0 as is_cure
    from with_totals
)

select * from final
