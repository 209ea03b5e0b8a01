{{ config(severity='error') }}
/*
    The strategy playbook is complete: seeds/strategy_catalog.csv has a strategy for every list (temporary, chronic,
    stubborn, watch) x risk band (low, medium, high), and every strategy has steps in seeds/strategy_steps.csv
    numbered 1..n without gaps.
    If this fails, mart_collection_strategy drops the customers of the missing combination (it joins the catalog
    and the next step with inner joins), so they would get no strategy.
*/

with

catalog as (select * from {{ ref('strategy_catalog') }}),

steps as (select * from {{ ref('strategy_steps') }}),

lists as (
    select 'temporary' as overdue_type
    union all
    select 'chronic'
    union all
    select 'stubborn'
    union all
    select 'watch'
),

bands as (
    select 'low' as risk_band
    union all
    select 'medium'
    union all
    select 'high'
),

missing_strategies as (
    select lists.overdue_type, bands.risk_band, cast(null as {{ dbt.type_string() }}) as strategy_code,
           'no strategy for this list x risk band' as problem
    from lists
    cross join bands
    left join catalog
        on catalog.overdue_type = lists.overdue_type
       and catalog.risk_band = bands.risk_band
    where catalog.strategy_code is null
),

step_stats as (
    select
        catalog.overdue_type,
        catalog.risk_band,
        catalog.strategy_code,
        count(steps.step_number) as step_rows,
        min(steps.step_number) as first_step,
        max(steps.step_number) as last_step
    from catalog
    left join steps on catalog.strategy_code = steps.strategy_code
    group by catalog.overdue_type, catalog.risk_band, catalog.strategy_code
),

bad_ladders as (
    select overdue_type, risk_band, strategy_code, 'steps missing or not numbered 1..n' as problem
    from step_stats
    where step_rows = 0 or first_step <> 1 or last_step <> step_rows
)

select * from missing_strategies
union all
select * from bad_ladders
