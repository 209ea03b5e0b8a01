/* grain: one row per calendar day from the first invoice date to the as-of date: whether it is a snapshot date
   of the history (and which), and the sequence number of the first snapshot date on or after it */

{#-
    next_snapshot_seq places any document date among the snapshot dates with an equality join: an invoice
    issued on day d is in every snapshot from next_snapshot_seq(d) on, and a settled one is out of every
    snapshot from next_snapshot_seq(settled_date) on. fct_customer_aging_history expands invoices to snapshots
    that way instead of a range join of every invoice with every snapshot date.
-#}

with

as_of as (select as_of_date from {{ ref('int_as_of_date') }}),

invoices as (select * from {{ ref('stg_invoices') }}),

first_day as (
    select min(invoice_date) as first_invoice_date
    from invoices
    where not is_void
),

days as (
    {{ day_series('first_day.first_invoice_date', 'as_of.as_of_date', 'first_day cross join as_of',
                  carry=['as_of.as_of_date']) }}
),

flagged as (
    select
        calendar_day,
        as_of_date,
        calendar_day = {{ month_end_of('calendar_day') }} as is_month_end,
        -- 1970-01-04 was a Sunday
        mod({{ days_between("cast('1970-01-04' as date)", 'calendar_day') }}, 7) = 0 as is_week_end,
        {{ days_between('calendar_day', 'as_of_date') }} as days_before_as_of
    from days
),

kept as (
    select
        calendar_day,
        is_month_end,
        is_week_end,
        calendar_day = as_of_date as is_as_of_date,
        is_month_end
            or (is_week_end and days_before_as_of < 7 * {{ var('history_weekly_weeks') }})
            or days_before_as_of < {{ var('history_daily_days') }} as is_snapshot_date
    from flagged
),

numbered as (
    select
        *,
        case when is_snapshot_date then
            sum(case when is_snapshot_date then 1 else 0 end) over (
                order by calendar_day rows between unbounded preceding and current row)
        end as snapshot_seq
    from kept
),

final as (
    select
        calendar_day,
        is_snapshot_date,
        is_month_end,
        is_week_end,
        is_as_of_date,
        cast(snapshot_seq as {{ dbt.type_int() }}) as snapshot_seq,
        -- the as-of date is always a snapshot date, so every day has one on or after it
        cast(min(snapshot_seq) over (
            order by calendar_day rows between current row and unbounded following) as {{ dbt.type_int() }})
            as next_snapshot_seq
    from numbered
)

select * from final
