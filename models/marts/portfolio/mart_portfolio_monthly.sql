/* grain: one row per period: every month end of the history plus the as-of date (month to date): overdue
   rate, overdue amount by bucket, DSO, collection effectiveness index, customers by overdue type */
-- depends_on: {{ ref('aging_buckets') }}

with

as_of as (select as_of_date from {{ ref('int_as_of_date') }}),

history as (select * from {{ ref('fct_customer_aging_history') }}),

current_aging as (select * from {{ ref('fct_customer_aging') }}),

invoices as (select * from {{ ref('fct_invoices') }}),

-- void (reversed or bounced) payments are ignored downstream
payments as (select * from {{ ref('stg_payments') }} where not coalesce(is_void, false)),

type_snapshots as (select * from {{ ref('fct_overdue_type_snapshots') }}),

all_customers as (select count(*) as customer_count from {{ ref('dim_customers') }}),

periods as (
    select snapshot_date as period_end, false as is_as_of_date
    from {{ ref('int_snapshot_dates') }}
    where is_month_end and not is_as_of_date
    union all
    select as_of_date as period_end, true as is_as_of_date
    from as_of
),

period_bounds as (
    select
        period_end,
        is_as_of_date,
        cast({{ dbt.date_trunc('month', 'period_end') }} as date) as period_start,
        lag(period_end) over (order by period_end) as previous_period_end
    from periods
),

-- every customer that owed something at a period end: month ends from the history, the as-of date from the
-- current aging (the history row of the as-of date, if any, is left to the current aging)
customer_balances as (
    select
        history.snapshot_date as period_end,
        history.is_overdue,
        history.outstanding_base,
        history.overdue_base,
        {%- for b in aging_bucket_rows() %}
        history.bucket_{{ b['code'] }}_base{{ "," if not loop.last }}
        {%- endfor %}
    from history
    cross join as_of
    where history.is_month_end
      and history.snapshot_date < as_of.as_of_date

    union all

    select
        as_of.as_of_date as period_end,
        current_aging.is_overdue,
        current_aging.outstanding_base,
        current_aging.overdue_base,
        {%- for b in aging_bucket_rows() %}
        current_aging.bucket_{{ b['code'] }}_base{{ "," if not loop.last }}
        {%- endfor %}
    from current_aging
    cross join as_of
    where current_aging.outstanding_base > 0
),

balances as (
    select
        period_end,
        count(*) as customers_with_balance,
        sum(case when is_overdue then 1 else 0 end) as overdue_customers,
        sum(outstanding_base) as outstanding_base,
        sum(overdue_base) as overdue_base,
        sum(bucket_not_due_base) as current_base,
        {%- for b in aging_bucket_rows() %}
        sum(bucket_{{ b['code'] }}_base) as bucket_{{ b['code'] }}_base{{ "," if not loop.last }}
        {%- endfor %}
    from customer_balances
    group by period_end
),

-- billed and collected per day first (a few hundred days), then per period: the range join of the periods to
-- every invoice and payment was most of this model's time at 1,000,000 customers (amounts are decimals, so
-- summing in two steps gives the same totals)
billed_daily as (
    select invoice_date as activity_date, sum(amount_base) as amount_base
    from invoices
    group by invoice_date
),

collected_daily as (
    select payment_date as activity_date, sum(amount_base) as amount_base
    from payments
    group by payment_date
),

billed as (
    select period_bounds.period_end, sum(billed_daily.amount_base) as billed_base
    from period_bounds
    inner join billed_daily
        on billed_daily.activity_date >= period_bounds.period_start
       and billed_daily.activity_date <= period_bounds.period_end
    group by period_bounds.period_end
),

collected as (
    select period_bounds.period_end, sum(collected_daily.amount_base) as collected_base
    from period_bounds
    inner join collected_daily
        on collected_daily.activity_date >= period_bounds.period_start
       and collected_daily.activity_date <= period_bounds.period_end
    group by period_bounds.period_end
),

types as (
    select
        as_of_date as period_end,
        sum(case when overdue_type = 'temporary' then customer_count end) as temporary_customers,
        sum(case when overdue_type = 'chronic' then customer_count end) as chronic_customers,
        sum(case when overdue_type = 'stubborn' then customer_count end) as stubborn_customers
    from type_snapshots
    group by as_of_date
),

combined as (
    select
        period_bounds.period_end,
        period_bounds.period_start,
        period_bounds.is_as_of_date,
        all_customers.customer_count,
        coalesce(balances.customers_with_balance, 0) as customers_with_balance,
        coalesce(balances.overdue_customers, 0) as overdue_customers,
        coalesce(balances.outstanding_base, 0) as outstanding_base,
        coalesce(balances.overdue_base, 0) as overdue_base,
        coalesce(balances.current_base, 0) as current_base,
        {%- for b in aging_bucket_rows() %}
        coalesce(balances.bucket_{{ b['code'] }}_base, 0) as bucket_{{ b['code'] }}_base,
        {%- endfor %}
        coalesce(previous.outstanding_base, 0) as opening_outstanding_base,
        period_bounds.previous_period_end is not null as has_opening_balance,
        coalesce(billed.billed_base, 0) as billed_base,
        coalesce(collected.collected_base, 0) as collected_base,
        {{ days_between('period_bounds.period_start', 'period_bounds.period_end') }} + 1 as period_days,
        types.temporary_customers,
        types.chronic_customers,
        types.stubborn_customers
    from period_bounds
    cross join all_customers
    left join balances on period_bounds.period_end = balances.period_end
    left join balances as previous on period_bounds.previous_period_end = previous.period_end
    left join billed on period_bounds.period_end = billed.period_end
    left join collected on period_bounds.period_end = collected.period_end
    left join types on period_bounds.period_end = types.period_end
),

final as (
    select
        -- keys
        period_end,
        period_start,
        is_as_of_date,
        -- customers
        customer_count,
        cast(customers_with_balance as {{ dbt.type_bigint() }}) as customers_with_balance,
        cast(overdue_customers as {{ dbt.type_bigint() }}) as overdue_customers,
        {{ safe_divide('overdue_customers', 'customers_with_balance') }} as overdue_customer_rate,
        -- amounts (base currency)
        cast(outstanding_base as {{ money_type() }}) as outstanding_base,
        cast(overdue_base as {{ money_type() }}) as overdue_base,
        {{ safe_divide('overdue_base', 'outstanding_base') }} as overdue_amount_rate,
        {%- for b in aging_bucket_rows() %}
        cast(bucket_{{ b['code'] }}_base as {{ money_type() }}) as bucket_{{ b['code'] }}_base,
        {%- endfor %}
        cast(billed_base as {{ money_type() }}) as billed_base,
        cast(collected_base as {{ money_type() }}) as collected_base,
        cast(period_days as {{ dbt.type_bigint() }}) as period_days,
        -- the previous period's outstanding (null for the first period); the semantic layer's CEI reads it
        cast(case when has_opening_balance then opening_outstanding_base end as {{ money_type() }})
            as opening_outstanding_base,
        -- efficiency
        {{ safe_divide('outstanding_base * period_days', 'billed_base') }} as dso_days,
        -- CEI = (opening AR + billed - closing AR) / (opening AR + billed - closing current AR) x 100
        -- (null for the first period, which has no opening balance, and when nothing was collectible)
        case when has_opening_balance and opening_outstanding_base + billed_base - current_base > 0
             then 100 * {{ safe_divide('opening_outstanding_base + billed_base - outstanding_base',
                                       'opening_outstanding_base + billed_base - current_base') }}
        end as collection_effectiveness_index,
        -- customers by overdue type (known for as-of dates the pipeline has run on)
        cast(temporary_customers as {{ dbt.type_bigint() }}) as temporary_customers,
        cast(chronic_customers as {{ dbt.type_bigint() }}) as chronic_customers,
        cast(stubborn_customers as {{ dbt.type_bigint() }}) as stubborn_customers
    from combined
)

select * from final
