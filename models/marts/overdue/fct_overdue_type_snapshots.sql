/* grain: one row per as-of date x overdue type: how many customers each run classified into each type and
   their overdue amount. Types are a judgment made on the day, so this log grows by one as-of date per run and
   is never rebuilt from scratch (full_refresh: false) */

{{ config(**run_log_config()) }}

with

overdue as (select * from {{ ref('mart_overdue_customers') }}),

as_of as (select as_of_date from {{ ref('int_as_of_date') }}),

types as (
    select 'temporary' as overdue_type
    union all
    select 'chronic'
    union all
    select 'stubborn'
),

final as (
    select
        as_of.as_of_date,
        types.overdue_type,
        count(overdue.customer_id) as customer_count,
        cast(coalesce(sum(overdue.overdue_base), 0) as {{ money_type() }}) as overdue_base
    from types
    cross join as_of
    left join overdue on overdue.overdue_type = types.overdue_type
    group by as_of.as_of_date, types.overdue_type
)

select * from final
