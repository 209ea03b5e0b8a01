/* grain: one row per customer overdue as of the as-of date (DPD above var overdue_threshold_days on an unpaid
   amount above var materiality_floor): its overdue type with the score of every type, the evidence that
   decided it, and its ability-to-pay, impact and priority */
-- depends_on: {{ ref('classification_weights') }}

{%- set order = var('overdue_type_tie_order') %}
{%- set labels_zh = {'temporary': '临时性逾期', 'chronic': '固有性逾期', 'stubborn': '顽固性逾期'} %}

with

evidence as (select * from {{ ref('int_overdue_evidence') }}),

aging as (select * from {{ ref('fct_customer_aging') }}),

customers as (select * from {{ ref('dim_customers') }}),

scores as (select * from {{ ref('int_customer_scores') }}),

overdue as (
    select evidence.*
    from evidence
    inner join aging on evidence.customer_id = aging.customer_id
    where aging.is_overdue
),

type_scores as (
    select
        *,
        {%- for t in order %}
        {{ overdue_type_score(t) }} as {{ t }}_score{{ "," if not loop.last }}
        {%- endfor %}
    from overdue
),

classified as (
    select
        *,
        case
        {%- for t in order %}
            when {% for other in order if other != t %}{{ t }}_score >= {{ other }}_score{{ ' and ' if not loop.last }}{% endfor %}
            then '{{ t }}'
        {%- endfor %}
        end as overdue_type
    from type_scores
),

explained as (
    select
        *,
        case overdue_type
        {%- for t in order %}
            when '{{ t }}' then {{ overdue_type_reasons(t, 'code', ';') }}
        {%- endfor %}
        end as reason_codes,
        case overdue_type
        {%- for t in order %}
            when '{{ t }}' then {{ overdue_type_reasons(t, 'en', '; ') }}
        {%- endfor %}
        end as reasons_en,
        case overdue_type
        {%- for t in order %}
            when '{{ t }}' then {{ overdue_type_reasons(t, 'zh', '；') }}
        {%- endfor %}
        end as reasons_zh
    from classified
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
        -- type and evidence
        explained.overdue_type,
        case explained.overdue_type
        {%- for t in order %}
            when '{{ t }}' then '{{ labels_zh[t] }}'
        {%- endfor %}
        end as overdue_type_zh,
        explained.temporary_score,
        explained.chronic_score,
        explained.stubborn_score,
        case when explained.reason_codes = '' then 'no_specific_evidence' else explained.reason_codes end as reason_codes,
        case when explained.reasons_en = '' then 'No specific evidence; type chosen by tie order' else explained.reasons_en end
            as reasons_en,
        case when explained.reasons_zh = '' then '无明确证据，按默认顺序归类' else explained.reasons_zh end as reasons_zh,
        -- amounts and lateness
        cast(aging.outstanding_base as {{ money_type() }}) as outstanding_base,
        cast(aging.overdue_base as {{ money_type() }}) as overdue_base,
        aging.days_past_due,
        aging.aging_bucket,
        explained.episode_start_date as spell_start_date,
        aging.last_payment_date,
        -- facts behind the evidence
        explained.on_time_share,
        cast(explained.prior_overdue_episodes as {{ dbt.type_bigint() }}) as prior_overdue_episodes,
        explained.contact_count,
        cast(explained.promises_kept as {{ dbt.type_bigint() }}) as promises_kept,
        cast(explained.promises_broken as {{ dbt.type_bigint() }}) as promises_broken,
        cast(explained.refusal_count as {{ dbt.type_bigint() }}) as refusal_count,
        explained.debt_to_income,
        aging.credit_utilisation,
        -- scores
        scores.ability_to_pay_score,
        scores.impact_score,
        scores.priority_score,
        scores.risk_band,
        cast(row_number() over (order by scores.priority_score desc, aging.overdue_base desc, explained.customer_id asc)
            as {{ dbt.type_bigint() }}) as priority_rank
    from explained
    inner join aging on explained.customer_id = aging.customer_id
    inner join customers on explained.customer_id = customers.customer_id
    inner join scores on explained.customer_id = scores.customer_id
)

select * from final
