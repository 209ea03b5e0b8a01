{{ config(severity='error') }}
/*
    The history stands on the as-of date: int_as_of_date has exactly one row; no snapshot in int_snapshot_dates or
    fct_customer_aging_history is after the as-of date; the latest month-end snapshot is on or before the as-of date
    and is the last month end on or before it (when the data reaches back that far).
    If this fails, a past as-of build shows the future (a month end after the as-of date, leftovers of a later
    incremental run not deleted), or the latest month is missing from monthly reports and roll rates.
*/

with

as_of_rows as (select * from {{ ref('int_as_of_date') }}),

as_of as (select max(as_of_date) as as_of_date, count(*) as as_of_rows from as_of_rows),

snapshot_dates as (select * from {{ ref('int_snapshot_dates') }}),

history_dates as (
    select distinct snapshot_date, is_month_end
    from {{ ref('fct_customer_aging_history') }}
),

expected as (
    select
        as_of_date,
        case
            when as_of_date = cast({{ dbt.last_day('as_of.as_of_date', 'month') }} as date) then as_of_date
            else cast({{ dbt.dateadd('day', '-1', dbt.date_trunc('month', 'as_of.as_of_date')) }} as date)
        end as expected_month_end
    from as_of
),

failures as (
    select 'int_as_of_date has not exactly one row' as problem, cast(null as date) as snapshot_date
    from as_of
    where as_of_rows <> 1

    union all

    select 'snapshot date after the as-of date in int_snapshot_dates' as problem, snapshot_dates.snapshot_date
    from snapshot_dates
    cross join as_of
    where snapshot_dates.snapshot_date > as_of.as_of_date

    union all

    select 'snapshot after the as-of date in fct_customer_aging_history' as problem, history_dates.snapshot_date
    from history_dates
    cross join as_of
    where history_dates.snapshot_date > as_of.as_of_date

    union all

    select 'latest month-end snapshot is not the last month end on or before the as-of date' as problem,
           max(snapshot_dates.snapshot_date) as snapshot_date
    from snapshot_dates
    cross join expected
    where snapshot_dates.is_month_end
    group by expected.expected_month_end
    having max(snapshot_dates.snapshot_date) <> expected.expected_month_end
       and min(snapshot_dates.snapshot_date) <= expected.expected_month_end

    union all

    select 'latest month end in fct_customer_aging_history after the as-of date' as problem,
           max(history_dates.snapshot_date) as snapshot_date
    from history_dates
    cross join as_of
    where history_dates.is_month_end
    group by as_of.as_of_date
    having max(history_dates.snapshot_date) > as_of.as_of_date
)

select * from failures
