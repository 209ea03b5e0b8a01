/* grain: one row per calendar day from var calendar_start to var calendar_end (both included): the date
   dimension BI tools join to, and the semantic layer's time spine (MetricFlow) */

with

days as (
    {{ dbt.date_spine(
        datepart="day",
        start_date="cast('" ~ var('calendar_start') ~ "' as date)",
        end_date=dbt.dateadd('day', 1, "cast('" ~ var('calendar_end') ~ "' as date)")
    ) }}
),

final as (
    select
        cast(date_day as date) as date_day,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start,
        cast({{ dbt.date_trunc('year', 'date_day') }} as date) as year_start
    from days
)

select * from final
