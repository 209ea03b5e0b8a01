/* grain: one row per champion/challenger test x outcome (cure within 30 / 60 / 90 days, promise kept, roll
   forward within 30 days): both arms' samples and rates, the difference (challenger - champion) with its 95%
   interval, the two-sided p-value, the sample per arm needed to detect the observed difference, and the status:
   a winner is called only when both arms have that sample and the difference is significant */

with

outcomes as (select * from {{ ref('int_strategy_outcomes') }} where test_id is not null),

tests as (select * from {{ ref('strategy_tests') }}),

as_of as (select as_of_date from {{ ref('int_as_of_date') }}),

metrics as (
    {%- for name, higher in [('cure_30', 1), ('cure_60', 1), ('cure_90', 1), ('promise_kept', 1), ('roll_forward_30', 0)] %}
    select '{{ name }}' as outcome, {{ higher }} as higher_is_better
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

-- one row per assignment x outcome: trials and successes (a promise outcome counts each promise due)
long_outcomes as (
    {%- set outcome_columns = [('cure_30', 'case when is_cure_observed_30 then 1 else 0 end', 'case when is_cured_30 then 1 else 0 end'),
                               ('cure_60', 'case when is_cure_observed_60 then 1 else 0 end', 'case when is_cured_60 then 1 else 0 end'),
                               ('cure_90', 'case when is_cure_observed_90 then 1 else 0 end', 'case when is_cured_90 then 1 else 0 end'),
                               ('promise_kept', 'promises_due', 'promises_kept'),
                               ('roll_forward_30', 'case when days_observed >= 30 then 1 else 0 end',
                                'case when is_rolled_forward_30 then 1 else 0 end')] %}
    {%- for name, trials, successes in outcome_columns %}
    select test_id, variant, assigned_date, '{{ name }}' as outcome, {{ trials }} as trials, {{ successes }} as successes
    from outcomes
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

arms as (
    select
        test_id,
        outcome,
        min(assigned_date) as first_assigned_date,
        max(assigned_date) as last_assigned_date,
        sum(case when variant = 'champion' then trials else 0 end) as champion_n,
        sum(case when variant = 'champion' then successes else 0 end) as champion_successes,
        sum(case when variant = 'challenger' then trials else 0 end) as challenger_n,
        sum(case when variant = 'challenger' then successes else 0 end) as challenger_successes
    from long_outcomes
    group by test_id, outcome
),

rates as (
    select
        arms.test_id,
        arms.outcome,
        arms.first_assigned_date,
        arms.last_assigned_date,
        arms.champion_n,
        arms.champion_successes,
        arms.challenger_n,
        arms.challenger_successes,
        metrics.higher_is_better,
        {{ safe_divide('arms.champion_successes', 'arms.champion_n') }} as champion_rate,
        {{ safe_divide('arms.challenger_successes', 'arms.challenger_n') }} as challenger_rate,
        {{ safe_divide('arms.champion_successes + arms.challenger_successes', 'arms.champion_n + arms.challenger_n') }}
            as pooled_rate
    from arms
    inner join metrics on arms.outcome = metrics.outcome
),

compared as (
    select
        *,
        challenger_rate - champion_rate as difference,
        -- unpooled standard error for the interval, pooled for the test
        sqrt(champion_rate * (1 - champion_rate) / nullif(champion_n, 0)
             + challenger_rate * (1 - challenger_rate) / nullif(challenger_n, 0)) as standard_error,
        sqrt(pooled_rate * (1 - pooled_rate) * (1.0 / nullif(champion_n, 0) + 1.0 / nullif(challenger_n, 0)))
            as pooled_standard_error,
        champion_rate * (1 - champion_rate) + challenger_rate * (1 - challenger_rate) as variance_sum
    from rates
),

tested as (
    select
        *,
        case when pooled_standard_error > 0
             then 2 * (1 - {{ normal_cdf('abs(difference) / pooled_standard_error') }})
             when champion_n > 0 and challenger_n > 0 then 1.0 end as p_value,
        -- per arm, to detect the observed difference at var strategy_test_alpha with var strategy_test_power
        case when difference <> 0
             then ceil(({{ var('strategy_test_z_alpha') }} + {{ var('strategy_test_z_power') }})
                       * ({{ var('strategy_test_z_alpha') }} + {{ var('strategy_test_z_power') }})
                       * variance_sum / (difference * difference)) end as sample_needed_per_arm
    from compared
),

final as (
    select
        -- keys
        tested.test_id,
        tested.outcome,
        -- the test
        tests.strategy_code,
        tests.challenger_share,
        tests.started_on,
        tests.ended_on,
        tested.first_assigned_date,
        tested.last_assigned_date,
        as_of.as_of_date,
        tested.higher_is_better = 1 as higher_is_better,
        -- arms
        cast(tested.champion_n as {{ dbt.type_bigint() }}) as champion_n,
        cast(tested.champion_successes as {{ dbt.type_bigint() }}) as champion_successes,
        {{ round_float('tested.champion_rate', 4) }} as champion_rate,
        cast(tested.challenger_n as {{ dbt.type_bigint() }}) as challenger_n,
        cast(tested.challenger_successes as {{ dbt.type_bigint() }}) as challenger_successes,
        {{ round_float('tested.challenger_rate', 4) }} as challenger_rate,
        -- comparison
        {{ round_float('tested.difference', 4) }} as difference,
        {{ round_float('tested.difference - ' ~ var('strategy_test_z_alpha') ~ ' * tested.standard_error', 4) }}
            as difference_low,
        {{ round_float('tested.difference + ' ~ var('strategy_test_z_alpha') ~ ' * tested.standard_error', 4) }}
            as difference_high,
        {{ round_float('tested.p_value', 4) }} as p_value,
        cast(tested.sample_needed_per_arm as {{ dbt.type_bigint() }}) as sample_needed_per_arm,
        case
            when tested.champion_n = 0 or tested.challenger_n = 0 then 'no data'
            when tested.sample_needed_per_arm is null
              or least(tested.champion_n, tested.challenger_n) < tested.sample_needed_per_arm then 'collecting'
            when tested.p_value >= {{ var('strategy_test_alpha') }} then 'no difference'
            when (tested.difference > 0) = (tested.higher_is_better = 1) then 'challenger better'
            else 'champion better'
        end as status
    from tested
    inner join tests on tested.test_id = tests.test_id
    cross join as_of
)

select * from final
