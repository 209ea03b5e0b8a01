/* grain: one row per valid customer NOT overdue as of the as-of date: the strength (0..1) of each early-warning
   signal and the warning_score (0-100) they add up to; the watch list takes those at or above a threshold */

{%- set signals = var('watch_signals') %}

with

aging as (select * from {{ ref('fct_customer_aging') }}),

patterns as (select * from {{ ref('fct_payment_pattern_changes') }}),

evidence as (select * from {{ ref('int_overdue_evidence') }}),

-- the raw measure of each signal; null when it cannot be judged (too few payments, nothing billed)
measures as (
    select
        aging.customer_id,
        aging.as_of_date,
        case when patterns.baseline_payment_count >= {{ var('pattern_min_payments') }}
                  and patterns.recent_payment_count >= 2 and patterns.baseline_median_gap_days > 0
             then patterns.recent_median_gap_days / patterns.baseline_median_gap_days end as m_cadence_slowed,
        cast(patterns.recent_days_to_pay - patterns.baseline_days_to_pay as {{ dbt.type_float() }}) as m_days_to_pay_up,
        cast(patterns.baseline_paid_ratio - patterns.recent_paid_ratio as {{ dbt.type_float() }}) as m_paid_share_falling,
        case when patterns.is_payment_stopped then 1.0 else 0.0 end as m_payment_stopped,
        case when aging.past_due_base > {{ var('materiality_floor') }}
             then cast(aging.days_past_due as {{ dbt.type_float() }}) else 0.0 end as m_dpd_near_threshold,
        case when evidence.promises_broken > 0 then 1.0 else 0.0 end as m_broken_promise
    from aging
    inner join patterns on aging.customer_id = patterns.customer_id
    inner join evidence on aging.customer_id = evidence.customer_id
    where not aging.is_overdue
),

-- each signal as a strength 0..1: a linear ramp from `from` to `to` (var watch_signals); 0 when not judged
components as (
    select
        *,
        {%- for name, s in signals.items() %}
        coalesce(least(greatest((cast(m_{{ name }} as {{ dbt.type_float() }}) - {{ s['from'] }})
                                / {{ s['to'] - s['from'] if s['to'] != s['from'] else 1 }}, 0.0), 1.0), 0.0)
            as c_{{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    from measures
),

scored as (
    select
        customer_id,
        as_of_date,
        {%- for name in signals %}
        {{ round_float('c_' ~ name, 3) }} as {{ name }}_strength,
        {%- endfor %}
        {%- set terms = [] %}
        {%- for name, s in signals.items() %}{% do terms.append(s['weight'] ~ ' * c_' ~ name) %}{% endfor %}
        {{ round_float('least(100.0, 100.0 * (' ~ terms | join(' + ') ~ ') / ' ~ var('watch_score_scale') ~ ')', 1) }}
            as warning_score
    from components
),

final as (
    select
        *,
        warning_score >= {{ var('watch_score_threshold') }} as is_watch_listed
    from scored
)

select * from final
