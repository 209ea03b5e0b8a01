/* grain: one row per currency per calendar day, from the currency's first rate date to var fx_calendar_end;
   the rate is the latest valid rate on or before that day (the contract's rule), so documents join on equality */

with

rates as (select * from {{ ref('stg_fx_rates') }}),

first_dates as (
    select
        currency,
        min(rate_date) as first_rate_date
    from rates
    group by currency
),

calendar as (
    {{ day_series('first_dates.first_rate_date', "cast('" ~ var('fx_calendar_end', '2099-12-31') ~ "' as date)",
                  'first_dates', day_column='rate_day', carry=['first_dates.currency']) }}
),

with_rates as (
    select
        calendar.currency,
        calendar.rate_day,
        rates.rate_to_base,
        rates.rate_date,
        -- running count of days that carry a rate: constant from one rate to the next (fill-forward group)
        count(rates.rate_to_base) over (
            partition by calendar.currency order by calendar.rate_day
            rows between unbounded preceding and current row
        ) as fill_group
    from calendar
    left join rates
        on calendar.currency = rates.currency
       and calendar.rate_day = rates.rate_date
),

final as (
    select
        currency,
        rate_day,
        max(rate_to_base) over (partition by currency, fill_group) as rate_to_base,
        max(rate_date) over (partition by currency, fill_group) as rate_source_date
    from with_rates
)

select * from final
