/* grain: one row per snapshot date kept in the history: every month end from the first invoice to the
   as-of date, week ends (Sundays) of the last var history_weekly_weeks weeks, every day of the last
   var history_daily_days days, and the as-of date itself */

with

as_of as (select as_of_date from {{ ref('int_as_of_date') }}),

invoices as (select * from {{ ref('stg_invoices') }}),

first_day as (
    select min(invoice_date) as first_invoice_date
    from invoices
    where not is_void
),

day_offsets as (
    select {{ integers_value(5) }} as day_offset
    from {{ integers(5) }}
),

days as (
    select
        cast({{ dbt.dateadd('day', 'day_offsets.day_offset', 'first_day.first_invoice_date') }} as date) as snapshot_date,
        as_of.as_of_date
    from first_day
    cross join as_of
    cross join day_offsets
    where day_offsets.day_offset <= {{ dbt.datediff('first_day.first_invoice_date', 'as_of.as_of_date', 'day') }}
),

flagged as (
    select
        snapshot_date,
        as_of_date,
        snapshot_date = {{ dbt.last_day('snapshot_date', 'month') }} as is_month_end,
        -- 1970-01-04 was a Sunday
        mod({{ dbt.datediff("cast('1970-01-04' as date)", 'snapshot_date', 'day') }}, 7) = 0 as is_week_end,
        {{ dbt.datediff('snapshot_date', 'as_of_date', 'day') }} as days_before_as_of
    from days
),

final as (
    select
        snapshot_date,
        is_month_end,
        is_week_end,
        snapshot_date = as_of_date as is_as_of_date
    from flagged
    where is_month_end
       or (is_week_end and days_before_as_of < 7 * {{ var('history_weekly_weeks') }})
       or days_before_as_of < {{ var('history_daily_days') }}
)

select * from final
