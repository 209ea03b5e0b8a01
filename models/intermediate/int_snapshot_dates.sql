/* grain: one row per snapshot date kept in the history: every month end from the first invoice to the
   as-of date, week ends (Sundays) of the last var history_weekly_weeks weeks, every day of the last
   var history_daily_days days, and the as-of date itself */

with

days as (select * from {{ ref('int_calendar_days') }}),

final as (
    select
        calendar_day as snapshot_date,
        snapshot_seq,
        is_month_end,
        is_week_end,
        is_as_of_date
    from days
    where is_snapshot_date
)

select * from final
