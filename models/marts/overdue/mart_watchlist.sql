/* grain: one row per customer NOT overdue as of the as-of date but showing an early warning: a short
   delinquency (past due, not over the threshold), a payment-pattern change, or a broken promise */

with

aging as (select * from {{ ref('fct_customer_aging') }}),

evidence as (select * from {{ ref('int_overdue_evidence') }}),

patterns as (select * from {{ ref('fct_payment_pattern_changes') }}),

customers as (select * from {{ ref('dim_customers') }}),

scores as (select * from {{ ref('int_customer_scores') }}),

warnings as (
    select
        aging.customer_id,
        aging.as_of_date,
        aging.days_past_due >= {{ var('watch_min_dpd') }} and aging.past_due_base > {{ var('materiality_floor') }}
            as w_short_delinquency,
        patterns.is_cadence_slowed as w_cadence_slowed,
        patterns.is_payment_stopped as w_payment_stopped,
        patterns.is_paying_less as w_paying_less,
        patterns.is_partial_payer as w_partial_payer,
        patterns.is_days_to_pay_up as w_days_to_pay_up,
        evidence.promises_broken > 0 as w_broken_promise
    from aging
    inner join patterns on aging.customer_id = patterns.customer_id
    inner join evidence on aging.customer_id = evidence.customer_id
    where not aging.is_overdue
),

{%- set warning_text = [
    ('short_delinquency', 'Past due, under the overdue threshold', '短期逾期（未超阈值）'),
    ('cadence_slowed', 'Pays less often than before (e.g. weekly to monthly)', '还款频率放缓（如由每周变为每月）'),
    ('payment_stopped', 'No payment in the recent window', '近期未还款'),
    ('paying_less', 'Paid/billed ratio fell', '还款/账单比例下降'),
    ('partial_payer', 'Pays invoices partially', '部分还款'),
    ('days_to_pay_up', 'Takes longer to pay', '还款天数增加'),
    ('broken_promise', 'Broke a promise to pay', '违背还款承诺'),
] %}

flagged as (
    select
        warnings.*,
        concat_ws(';'
        {%- for code, en, zh in warning_text %},
            case when w_{{ code }} then '{{ code }}' end
        {%- endfor %}) as warning_codes,
        concat_ws('; '
        {%- for code, en, zh in warning_text %},
            case when w_{{ code }} then '{{ en }}' end
        {%- endfor %}) as warnings_en,
        concat_ws('；'
        {%- for code, en, zh in warning_text %},
            case when w_{{ code }} then '{{ zh }}' end
        {%- endfor %}) as warnings_zh
    from warnings
    where {% for code, en, zh in warning_text %}coalesce(w_{{ code }}, false){{ ' or ' if not loop.last }}{% endfor %}
),

final as (
    select
        -- keys
        flagged.customer_id,
        flagged.as_of_date,
        -- who
        customers.customer_name,
        customers.customer_type,
        customers.region,
        customers.account_manager,
        customers.is_key_account,
        -- warnings
        flagged.warning_codes,
        flagged.warnings_en,
        flagged.warnings_zh,
        {%- for code, en, zh in warning_text %}
        coalesce(flagged.w_{{ code }}, false) as is_{{ code }},
        {%- endfor %}
        -- amounts and lateness
        cast(aging.outstanding_base as {{ money_type() }}) as outstanding_base,
        cast(aging.past_due_base as {{ money_type() }}) as past_due_base,
        aging.days_past_due,
        aging.aging_bucket,
        aging.last_payment_date,
        -- scores
        scores.ability_to_pay_score,
        scores.impact_score,
        scores.priority_score,
        scores.risk_band,
        cast(row_number() over (order by scores.priority_score desc, aging.past_due_base desc, flagged.customer_id)
            as {{ dbt.type_bigint() }}) as priority_rank
    from flagged
    inner join aging on flagged.customer_id = aging.customer_id
    inner join customers on flagged.customer_id = customers.customer_id
    inner join scores on flagged.customer_id = scores.customer_id
)

select * from final
