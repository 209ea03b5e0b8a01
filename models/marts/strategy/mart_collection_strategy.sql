/* grain: one row per customer on the overdue list or the watch list as of the as-of date: the strategy from
   the catalog (type x risk band), the arm of a running champion/challenger test of that strategy, the next
   action and when it is due, the owning team, the priority rank, and what a collector needs (amounts, contact
   fields, reasons) */

with

overdue as (select * from {{ ref('mart_overdue_customers') }}),

watchlist as (select * from {{ ref('mart_watchlist') }}),

customers as (select * from {{ ref('dim_customers') }}),

evidence as (select * from {{ ref('int_overdue_evidence') }}),

catalog as (select * from {{ ref('strategy_catalog') }}),

steps as (select * from {{ ref('strategy_steps') }}),

actions as (select * from {{ ref('strategy_actions') }}),

tests as (select * from {{ ref('strategy_tests') }}),

test_steps as (select * from {{ ref('strategy_test_steps') }}),

as_of as (select as_of_date from {{ ref('int_as_of_date') }}),

-- the tests running on the as-of date (at most one per strategy: seed test)
running_tests as (
    select tests.*
    from tests
    cross join as_of
    where tests.started_on <= as_of.as_of_date
      and (tests.ended_on is null or tests.ended_on >= as_of.as_of_date)
),

-- the action ladders: a champion's is the strategy's own (keyed by the strategy code); a challenger's is its
-- test's steps, or the champion's when the test changes only the timing (keyed by the test id)
ladders as (
    select strategy_code as ladder_key, step_number, action_code
    from steps
    union all
    select test_steps.test_id as ladder_key, test_steps.step_number, test_steps.action_code
    from test_steps
    union all
    select running_tests.test_id as ladder_key, steps.step_number, steps.action_code
    from running_tests
    inner join steps on running_tests.strategy_code = steps.strategy_code
    where not exists (select 1 from test_steps where test_steps.test_id = running_tests.test_id)
),

listed as (
    select
        customer_id, as_of_date, 'overdue' as list_type, overdue_type as strategy_type, overdue_type,
        overdue_type_zh, risk_band, priority_score, ability_to_pay_score, impact_score,
        outstanding_base, overdue_base as at_stake_base, days_past_due, aging_bucket,
        reason_codes, reasons_en, reasons_zh
    from overdue
    union all
    select
        customer_id, as_of_date, 'watch' as list_type, 'watch' as strategy_type,
        cast(null as {{ dbt.type_string() }}) as overdue_type, cast(null as {{ dbt.type_string() }}) as overdue_type_zh,
        risk_band, priority_score, ability_to_pay_score, impact_score,
        outstanding_base, past_due_base as at_stake_base, days_past_due, aging_bucket,
        warning_codes as reason_codes, warnings_en as reasons_en, warnings_zh as reasons_zh
    from watchlist
),

step_counts as (
    select ladder_key, max(step_number) as step_count
    from ladders
    group by ladder_key
),

-- the arm: a stable hash of the test id and the customer id, so a customer keeps its arm run after run
with_arm as (
    select
        listed.*,
        catalog.strategy_code,
        catalog.strategy_name_en,
        catalog.strategy_name_zh,
        catalog.owner_team,
        catalog.sla_days,
        running_tests.test_id,
        running_tests.challenger_sla_days,
        case when running_tests.test_id is null then 'champion'
             else {{ test_arm('running_tests.test_id', 'listed.customer_id', 'running_tests.challenger_share') }}
        end as variant
    from listed
    inner join catalog
        on listed.strategy_type = catalog.overdue_type
       and listed.risk_band = catalog.risk_band
    left join running_tests on catalog.strategy_code = running_tests.strategy_code
),

with_strategy as (
    select
        with_arm.*,
        case when with_arm.variant = 'challenger' then with_arm.test_id else with_arm.strategy_code end as ladder_key,
        case when with_arm.variant = 'challenger' then coalesce(with_arm.challenger_sla_days, with_arm.sla_days)
             else with_arm.sla_days end as next_action_sla_days,
        -- escalation: every contact already made in this spell moves the customer one step down the ladder
        least(coalesce(evidence.contact_count, 0), step_counts.step_count - 1) + 1 as next_step_number,
        step_counts.step_count,
        evidence.credit_utilisation
    from with_arm
    inner join step_counts
        on step_counts.ladder_key
           = case when with_arm.variant = 'challenger' then with_arm.test_id else with_arm.strategy_code end
    left join evidence on with_arm.customer_id = evidence.customer_id
),

final as (
    select
        -- keys
        with_strategy.customer_id,
        with_strategy.as_of_date,
        -- list
        with_strategy.list_type,
        with_strategy.overdue_type,
        with_strategy.overdue_type_zh,
        with_strategy.risk_band,
        -- strategy
        with_strategy.strategy_code,
        with_strategy.strategy_name_en,
        with_strategy.strategy_name_zh,
        with_strategy.owner_team,
        with_strategy.next_step_number,
        with_strategy.step_count,
        steps.action_code as next_action_code,
        actions.action_en as next_action_en,
        actions.action_zh as next_action_zh,
        actions.channel as next_action_channel,
        cast({{ dbt.dateadd('day', 'with_strategy.next_action_sla_days', 'with_strategy.as_of_date') }} as date)
            as next_action_due_date,
        case
            when with_strategy.overdue_type = 'stubborn' then 'freeze'
            when with_strategy.overdue_type = 'chronic'
             and (with_strategy.risk_band = 'high' or coalesce(with_strategy.credit_utilisation, 0) >= {{ var('high_utilisation') }})
                then 'reduce'
            when coalesce(with_strategy.credit_utilisation, 0) >= {{ var('high_utilisation') }}
              or with_strategy.risk_band = 'high' then 'review'
            else 'none'
        end as credit_action,
        -- priority
        with_strategy.priority_score,
        cast(row_number() over (
            order by case when with_strategy.list_type = 'overdue' then 0 else 1 end,
                     with_strategy.priority_score desc, with_strategy.at_stake_base desc, with_strategy.customer_id asc
        ) as {{ dbt.type_bigint() }}) as priority_rank,
        with_strategy.ability_to_pay_score,
        with_strategy.impact_score,
        -- what a collector needs
        customers.customer_name,
        customers.customer_type,
        customers.region,
        customers.phone,
        customers.email,
        customers.contact_person,
        customers.account_manager,
        cast(with_strategy.outstanding_base as {{ money_type() }}) as outstanding_base,
        cast(with_strategy.at_stake_base as {{ money_type() }}) as at_stake_base,
        with_strategy.days_past_due,
        with_strategy.aging_bucket,
        with_strategy.reason_codes,
        with_strategy.reasons_en,
        with_strategy.reasons_zh,
        -- champion/challenger
        with_strategy.test_id,
        with_strategy.variant
    from with_strategy
    inner join ladders as steps
        on with_strategy.ladder_key = steps.ladder_key
       and with_strategy.next_step_number = steps.step_number
    inner join actions on steps.action_code = actions.action_code
    inner join customers on with_strategy.customer_id = customers.customer_id
)

select * from final
