/* grain: one row per month of assignment x strategy x test x arm x segment (overdue type or watch) x first
   action: how many assignments, and what followed them - cure within 30 / 60 / 90 days with Wilson intervals,
   median days to cure, money received within 30 / 90 days with Poisson-bootstrap intervals of the mean,
   promises kept, and roll forward to a worse bucket 30 days on. Rates count only assignments whose window has
   passed (the `*_observed` columns); cells under var strategy_min_cell are marked */

with

outcomes as (select * from {{ ref('int_strategy_outcomes') }}),

keyed as (
    select
        *,
        cast({{ dbt.date_trunc('month', 'assigned_date') }} as date) as assignment_month,
        coalesce(test_id, '') as test_key
    from outcomes
),

cells as (
    select
        assignment_month,
        strategy_code,
        test_key,
        max(test_id) as test_id,
        variant,
        segment,
        first_action_code,
        max(first_action_channel) as first_action_channel,
        max(owner_team) as owner_team,
        count(*) as assignments,
        count(distinct customer_id) as customers,
        sum(at_stake_base) as at_stake_base,
        {%- for days in [30, 60, 90] %}
        sum(case when is_cure_observed_{{ days }} then 1 else 0 end) as cure_{{ days }}_observed,
        sum(case when is_cured_{{ days }} then 1 else 0 end) as cured_{{ days }},
        {%- endfor %}
        {{ median_of('case when was_past_due then days_to_cure end') }} as median_days_to_cure,
        count(recovered_30_base) as recovered_30_observed,
        sum(recovered_30_base) as recovered_30_base,
        count(recovered_90_base) as recovered_90_observed,
        sum(recovered_90_base) as recovered_90_base,
        sum(promises_made) as promises_made,
        sum(promises_due) as promises_due,
        sum(promises_kept) as promises_kept,
        sum(case when days_observed >= 30 then 1 else 0 end) as roll_forward_observed,
        sum(case when is_rolled_forward_30 then 1 else 0 end) as rolled_forward
    from keyed
    group by assignment_month, strategy_code, test_key, variant, segment, first_action_code
),

-- Poisson bootstrap of the mean money received per assignment: each replicate weighs every assignment by a
-- Poisson(1) draw from a stable hash of (customer, day, replicate), so the intervals are the same on every run
replicates as ({{ replicate_numbers(var('strategy_bootstrap_replicates')) }}),

{%- for days in [30, 90] %}

weighted_{{ days }} as (
    select
        keyed.assignment_month, keyed.strategy_code, keyed.test_key, keyed.variant, keyed.segment,
        keyed.first_action_code, keyed.recovered_{{ days }}_base, replicates.replicate,
        {{ poisson_bootstrap_weight("keyed.customer_id || '@' || cast(keyed.assigned_date as " ~ dbt.type_string() ~ ")",
                                    'replicates.replicate') }} as weight
    from keyed
    cross join replicates
    where keyed.recovered_{{ days }}_base is not null
),

resampled_{{ days }} as (
    select
        assignment_month, strategy_code, test_key, variant, segment, first_action_code, replicate,
        sum(weight * recovered_{{ days }}_base) as weighted_sum,
        sum(weight) as weight_sum
    from weighted_{{ days }}
    group by assignment_month, strategy_code, test_key, variant, segment, first_action_code, replicate
),

interval_{{ days }} as (
    select
        assignment_month, strategy_code, test_key, variant, segment, first_action_code,
        {{ quantile_of('cast(weighted_sum as ' ~ dbt.type_float() ~ ') / weight_sum', 0.025) }} as mean_low,
        {{ quantile_of('cast(weighted_sum as ' ~ dbt.type_float() ~ ') / weight_sum', 0.975) }} as mean_high
    from resampled_{{ days }}
    where weight_sum > 0
    group by assignment_month, strategy_code, test_key, variant, segment, first_action_code
),
{%- endfor %}

final as (
    select
        -- keys
        cells.assignment_month,
        cells.strategy_code,
        cells.test_id,
        cells.variant,
        cells.segment,
        cells.first_action_code,
        cells.first_action_channel,
        cells.owner_team,
        -- sample
        cast(cells.assignments as {{ dbt.type_bigint() }}) as assignments,
        cast(cells.customers as {{ dbt.type_bigint() }}) as customers,
        cast(cells.at_stake_base as {{ money_type() }}) as at_stake_base,
        cells.cure_30_observed < {{ var('strategy_min_cell') }} as is_small_cell,
        -- cure
        {%- for days in [30, 60, 90] %}
        cast(cells.cure_{{ days }}_observed as {{ dbt.type_bigint() }}) as cure_{{ days }}_observed,
        cast(cells.cured_{{ days }} as {{ dbt.type_bigint() }}) as cured_{{ days }},
        {{ round_float(safe_divide('cells.cured_' ~ days, 'cells.cure_' ~ days ~ '_observed'), 4) }} as cure_rate_{{ days }},
        {{ wilson_bound('cells.cured_' ~ days, 'cells.cure_' ~ days ~ '_observed', 'lower') }} as cure_rate_{{ days }}_low,
        {{ wilson_bound('cells.cured_' ~ days, 'cells.cure_' ~ days ~ '_observed', 'upper') }} as cure_rate_{{ days }}_high,
        {%- endfor %}
        {{ round_float('cells.median_days_to_cure', 1) }} as median_days_to_cure,
        -- money received
        {%- for days in [30, 90] %}
        cast(cells.recovered_{{ days }}_observed as {{ dbt.type_bigint() }}) as recovered_{{ days }}_observed,
        cast(cells.recovered_{{ days }}_base as {{ money_type() }}) as recovered_{{ days }}_base,
        {{ round_float(safe_divide('cells.recovered_' ~ days ~ '_base', 'cells.recovered_' ~ days ~ '_observed'), 2) }}
            as mean_recovered_{{ days }}_base,
        {{ round_float('interval_' ~ days ~ '.mean_low', 2) }} as mean_recovered_{{ days }}_low,
        {{ round_float('interval_' ~ days ~ '.mean_high', 2) }} as mean_recovered_{{ days }}_high,
        {%- endfor %}
        -- promises
        cast(cells.promises_made as {{ dbt.type_bigint() }}) as promises_made,
        cast(cells.promises_due as {{ dbt.type_bigint() }}) as promises_due,
        cast(cells.promises_kept as {{ dbt.type_bigint() }}) as promises_kept,
        {{ round_float(safe_divide('cells.promises_kept', 'cells.promises_due'), 4) }} as promise_kept_rate,
        {{ wilson_bound('cells.promises_kept', 'cells.promises_due', 'lower') }} as promise_kept_rate_low,
        {{ wilson_bound('cells.promises_kept', 'cells.promises_due', 'upper') }} as promise_kept_rate_high,
        -- roll forward
        cast(cells.roll_forward_observed as {{ dbt.type_bigint() }}) as roll_forward_observed,
        cast(cells.rolled_forward as {{ dbt.type_bigint() }}) as rolled_forward,
        {{ round_float(safe_divide('cells.rolled_forward', 'cells.roll_forward_observed'), 4) }} as roll_forward_rate,
        {{ wilson_bound('cells.rolled_forward', 'cells.roll_forward_observed', 'lower') }} as roll_forward_rate_low,
        {{ wilson_bound('cells.rolled_forward', 'cells.roll_forward_observed', 'upper') }} as roll_forward_rate_high
    from cells
    {%- for days in [30, 90] %}
    left join interval_{{ days }}
        on cells.assignment_month = interval_{{ days }}.assignment_month
       and cells.strategy_code = interval_{{ days }}.strategy_code
       and cells.test_key = interval_{{ days }}.test_key
       and cells.variant = interval_{{ days }}.variant
       and cells.segment = interval_{{ days }}.segment
       and cells.first_action_code = interval_{{ days }}.first_action_code
    {%- endfor %}
)

select * from final
