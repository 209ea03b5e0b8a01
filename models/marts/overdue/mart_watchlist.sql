/* grain: one row per customer NOT overdue as of the as-of date whose warning_score (int_warning_scores) reaches
   var watch_score_threshold: ranked by that score, with the signals that drove it (codes, English, Chinese) */

with

aging as (select * from {{ ref('fct_customer_aging') }}),

evidence as (select * from {{ ref('int_overdue_evidence') }}),

patterns as (select * from {{ ref('fct_payment_pattern_changes') }}),

warning_scores as (select * from {{ ref('int_warning_scores') }}),

customers as (select * from {{ ref('dim_customers') }}),

scores as (select * from {{ ref('int_customer_scores') }}),

listed as (
    select *
    from warning_scores
    where is_watch_listed
),

{#- the signals, strongest weight first: (code, English, Chinese) -#}
{%- set signal_text = [
    ('payment_stopped', 'No payment in the recent window', '近期未还款'),
    ('days_to_pay_up', 'Takes longer to pay', '还款天数增加'),
    ('cadence_slowed', 'Pays less often than before (e.g. weekly to monthly)', '还款频率放缓（如由每周变为每月）'),
    ('broken_promise', 'Broke a promise to pay', '违背还款承诺'),
    ('paid_share_falling', 'Pays a falling share of what is billed', '还款占账单比例下降'),
    ('dpd_near_threshold', 'Past due, nearing the overdue threshold', '逾期天数接近阈值'),
] %}

-- the signals that drove the score: those at least half way up their ramp (else every signal present)
explained as (
    select
        *,
        {%- for field, sep, idx in [('warning_codes', ';', 0), ('warnings_en', '; ', 1), ('warnings_zh', '；', 2)] %}
        coalesce(nullif(concat_ws('{{ sep }}'
            {%- for sig in signal_text %},
                case when {{ sig[0] }}_strength >= 0.5 then '{{ sig[idx] }}' end
            {%- endfor %}), ''),
            concat_ws('{{ sep }}'
            {%- for sig in signal_text %},
                case when {{ sig[0] }}_strength > 0 then '{{ sig[idx] }}' end
            {%- endfor %})) as {{ field }}{{ "," if not loop.last }}
        {%- endfor %}
    from listed
),

final as (
    select
        -- keys
        explained.customer_id,
        explained.as_of_date,
        -- who
        customers.customer_name,
        customers.customer_type,
        customers.region,
        customers.account_manager,
        customers.is_key_account,
        -- the early warning
        explained.warning_score,
        explained.warning_codes,
        explained.warnings_en,
        explained.warnings_zh,
        {%- for code, en, zh in signal_text %}
        explained.{{ code }}_strength,
        {%- endfor %}
        -- the pattern flags behind the signals (fct_payment_pattern_changes, fct_customer_aging)
        aging.days_past_due >= {{ var('watch_min_dpd') }} and aging.past_due_base > {{ var('materiality_floor') }}
            as is_short_delinquency,
        patterns.is_cadence_slowed,
        patterns.is_payment_stopped,
        patterns.is_paying_less,
        patterns.is_partial_payer,
        patterns.is_days_to_pay_up,
        evidence.promises_broken > 0 as is_broken_promise,
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
        cast(row_number() over (order by explained.warning_score desc, scores.priority_score desc,
                                         aging.past_due_base desc, explained.customer_id asc)
            as {{ dbt.type_bigint() }}) as priority_rank
    from explained
    inner join aging on explained.customer_id = aging.customer_id
    inner join patterns on explained.customer_id = patterns.customer_id
    inner join evidence on explained.customer_id = evidence.customer_id
    inner join customers on explained.customer_id = customers.customer_id
    inner join scores on explained.customer_id = scores.customer_id
)

select * from final
