/* grain: one row per customer that is past due or shows an early warning as of the as-of date:
   ability to pay, impact on the business, priority and risk band, each 0-100 with its components */

{%- set aw = var('ability_weights') %}
{%- set iw = var('impact_weights') %}

with

evidence as (select * from {{ ref('int_overdue_evidence') }}),

aging as (select * from {{ ref('fct_customer_aging') }}),

customers as (select * from {{ ref('dim_customers') }}),

warning_scores as (select * from {{ ref('int_warning_scores') }}),

book as (select sum(outstanding_base) as receivables_base from aging),

in_scope as (
    select
        evidence.*,
        aging.past_due_base,
        aging.outstanding_base,
        aging.is_overdue,
        customers.is_key_account,
        customers.revenue_share_12m,
        case when aging.is_overdue then aging.overdue_base else aging.past_due_base end as at_stake_base
    from evidence
    inner join aging on evidence.customer_id = aging.customer_id
    inner join customers on evidence.customer_id = customers.customer_id
    left join warning_scores on evidence.customer_id = warning_scores.customer_id
    where aging.past_due_base > 0 or evidence.has_pattern_change or evidence.promises_broken > 0
       or coalesce(warning_scores.is_watch_listed, false)
),

largest as (select max(at_stake_base) as max_at_stake_base from in_scope),

raw_components as (
    select
        in_scope.*,
        -- ability to pay: each component 0 (weak) .. 1 (strong)
        case when in_scope.debt_to_income is null then 0.3
             else 1 - least(cast(in_scope.debt_to_income as {{ dbt.type_float() }}) / {{ var('high_debt_to_income') }}, 1) end
            as ability_debt,
        case when in_scope.annual_income is null then 0.0
             else least(cast(in_scope.annual_income as {{ dbt.type_float() }}) / (3 * case when in_scope.customer_type = 'business'
                 then {{ var('low_income_business') }} else {{ var('low_income_individual') }} end), 1) end
            as ability_income,
        case when in_scope.credit_utilisation is null then 0.5
             else 1 - least(greatest(cast(in_scope.credit_utilisation as {{ dbt.type_float() }}), 0), 1) end as ability_utilisation,
        coalesce(cast(in_scope.on_time_share as {{ dbt.type_float() }}), 0.5) as ability_history,
        1 - coalesce(cast(in_scope.recent_partial_share as {{ dbt.type_float() }}), 0) as ability_partial,
        -- impact on the business: each component 0 (small) .. 1 (large)
        case when largest.max_at_stake_base > 0
             then ln(1 + cast(in_scope.at_stake_base as {{ dbt.type_float() }})) / ln(1 + cast(largest.max_at_stake_base as {{ dbt.type_float() }}))
             else 0 end as impact_amount,
        case when book.receivables_base > 0
             then least(cast(in_scope.at_stake_base as {{ dbt.type_float() }}) / book.receivables_base / {{ var('impact_share_cap') }}, 1)
             else 0 end as impact_share,
        least(cast(in_scope.days_past_due as {{ dbt.type_float() }}) / {{ var('impact_dpd_cap') }}, 1) as impact_dpd,
        case when in_scope.is_key_account then 1.0
             else least(coalesce(cast(in_scope.revenue_share_12m as {{ dbt.type_float() }}), 0) / {{ var('importance_revenue_share_cap') }}, 1) end
            as impact_importance,
        cast(in_scope.at_stake_base as {{ dbt.type_float() }}) / nullif(book.receivables_base, 0) as share_of_receivables
    from in_scope
    cross join largest
    cross join book
),

-- components rounded to 6 decimals as decimals: the weighted sums below are then exact, so a score never
-- flips at a rounding boundary between runs or engines
components as (
    select
        *,
        {%- for c in ['ability_debt', 'ability_income', 'ability_utilisation', 'ability_history', 'ability_partial',
                      'impact_amount', 'impact_share', 'impact_dpd', 'impact_importance'] %}
        cast(round(cast({{ c }} as decimal(38, 9)), 6) as decimal(10, 6)) as {{ c }}_exact{{ "," if not loop.last }}
        {%- endfor %}
    from raw_components
),

scored as (
    select
        *,
        {{ round_float("100 * (" ~ aw['debt'] ~ " * ability_debt + " ~ aw['income'] ~ " * ability_income
            + " ~ aw['utilisation'] ~ " * ability_utilisation + " ~ aw['history'] ~ " * ability_history
            + " ~ aw['partial'] ~ " * ability_partial)", 1) }} as ability_to_pay_score,
        {{ round_float("100 * (" ~ iw['amount'] ~ " * impact_amount + " ~ iw['share'] ~ " * impact_share
            + " ~ iw['dpd'] ~ " * impact_dpd + " ~ iw['importance'] ~ " * impact_importance)", 1) }} as impact_score
    from components
),

final as (
    select
        -- keys
        customer_id,
        as_of_date,
        -- scores
        ability_to_pay_score,
        impact_score,
        {{ round_float(var('priority_impact_weight') ~ " * impact_score
              + (1 - " ~ var('priority_impact_weight') ~ ") * (100 - ability_to_pay_score)", 1) }} as priority_score,
        {{ round_float('0.5 * (100 - ability_to_pay_score) + 50 * impact_dpd', 1) }} as risk_score,
        case
            when 0.5 * (100 - ability_to_pay_score) + 50 * impact_dpd >= {{ var('risk_band_cutoffs')['high'] }} then 'high'
            when 0.5 * (100 - ability_to_pay_score) + 50 * impact_dpd >= {{ var('risk_band_cutoffs')['medium'] }} then 'medium'
            else 'low'
        end as risk_band,
        -- components (0..1, 6 decimals)
        ability_debt_exact as ability_debt,
        ability_income_exact as ability_income,
        ability_utilisation_exact as ability_utilisation,
        ability_history_exact as ability_history,
        ability_partial_exact as ability_partial,
        impact_amount_exact as impact_amount,
        impact_share_exact as impact_share,
        impact_dpd_exact as impact_dpd,
        impact_importance_exact as impact_importance,
        share_of_receivables,
        cast(at_stake_base as {{ money_type() }}) as at_stake_base
    from scored
)

select * from final
