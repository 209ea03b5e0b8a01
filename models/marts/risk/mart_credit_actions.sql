/* grain: one row per customer observed on the latest scored observation date (the latest observation date of
   mart_risk_features when the model wrote no scores): the risk score, the customer's current position and
   collection list, the credit-limit decision (raise / hold / cut / freeze, or no_score), the new limit, the
   risk-based pricing band and a plain-words explanation in English and Chinese. A customer already at
   var risk_label_dpd+ DPD on the observation date is outside the model's population (such rows carry no
   label and are never trained on): frozen, priced in band var credit_defaulted_pricing_band, whatever the score */

{%- set raise_bands = sql_list(var('credit_raise_bands')) %}
{%- set cut_bands = sql_list(var('credit_cut_bands')) %}
{%- set freeze_bands = sql_list(var('credit_freeze_bands')) %}

with

as_of as (select as_of_date from {{ ref('int_as_of_date') }}),

scores as (select * from {{ ref('stg_risk_scores') }}),

features as (select * from {{ ref('mart_risk_features') }}),

aging as (select * from {{ ref('fct_customer_aging') }}),

strategy as (select * from {{ ref('mart_collection_strategy') }}),

pricing as (select * from {{ ref('pricing_bands') }}),

reasons as (select * from {{ ref('credit_decision_reasons') }}),

latest_scored as (select max(observation_date) as observation_date from scores),

latest_observed as (select max(observation_date) as observation_date from features),

decision_date as (
    select coalesce(latest_scored.observation_date, latest_observed.observation_date) as observation_date
    from latest_scored
    cross join latest_observed
),

observed as (
    select features.customer_id, features.observation_date, features.is_already_defaulted
    from features
    inner join decision_date on features.observation_date = decision_date.observation_date
),

positions as (
    select
        observed.customer_id,
        observed.observation_date,
        scores.pd,
        scores.score,
        scores.score_band,
        scores.model_name,
        scores.model_version,
        scores.customer_id is not null as has_score,
        coalesce(observed.is_already_defaulted, false) as is_already_defaulted,
        strategy.list_type,
        strategy.overdue_type,
        strategy.overdue_type_zh,
        strategy.credit_action as collection_credit_action,
        aging.credit_limit,
        coalesce(aging.outstanding_base, 0) as outstanding_base,
        coalesce(aging.past_due_base, 0) as past_due_base,
        coalesce(aging.days_past_due, 0) as days_past_due,
        aging.credit_utilisation as utilisation,
        case when aging.credit_limit is not null
             then greatest(aging.credit_limit - coalesce(aging.outstanding_base, 0), 0)
        end as headroom_base,
        coalesce(aging.is_overdue, false) as is_overdue,
        coalesce(aging.is_past_due, false) as is_past_due
    from observed
    left join scores
        on observed.customer_id = scores.customer_id
       and observed.observation_date = scores.observation_date
    left join aging on observed.customer_id = aging.customer_id
    left join strategy on observed.customer_id = strategy.customer_id
),

decided as (
    select
        *,
        case
            when not has_score then 'no_score'
            when overdue_type = 'stubborn' then 'stubborn'
            when is_already_defaulted then 'already_defaulted'
            when collection_credit_action = 'freeze' then 'collection_freeze'
            when score_band in ({{ freeze_bands }}) and is_overdue then 'high_risk_overdue'
            when credit_limit is null or credit_limit <= 0 then 'no_credit_limit'
            when score_band in ({{ cut_bands }}) then 'high_risk'
            when collection_credit_action = 'reduce' then 'collection_reduce'
            when score_band in ({{ raise_bands }}) and (is_past_due or list_type is not null) then 'low_risk_past_due'
            when score_band in ({{ raise_bands }}) and utilisation >= {{ var('credit_raise_min_utilisation') }}
                then 'low_risk_high_use'
            when score_band in ({{ raise_bands }}) then 'low_risk_low_use'
            else 'medium_risk'
        end as decision_reason
    from positions
),

with_limit as (
    select
        decided.*,
        reasons.limit_decision,
        reasons.reason_en,
        reasons.reason_zh,
        cast(case reasons.limit_decision
            when 'raise' then round(decided.credit_limit * (1 + {{ var('credit_raise_pct') }}), 2)
            when 'cut' then least(decided.credit_limit, greatest(decided.outstanding_base, round(decided.credit_limit * (1 - {{ var('credit_cut_pct') }}), 2)))
            when 'freeze' then least(decided.credit_limit, greatest(decided.outstanding_base, 0))
            else decided.credit_limit
        end as {{ money_type() }}) as new_credit_limit
    from decided
    left join reasons on decided.decision_reason = reasons.decision_reason  -- a code missing from the seed fails not_null(limit_decision)
),

explained as (
    select
        with_limit.*,
        pricing.pricing_tier,
        pricing.rate_add_on_bps,
        pricing.label_en as pricing_label_en,
        pricing.label_zh as pricing_label_zh,
        case with_limit.limit_decision
            when 'raise' then concat('Raise the credit limit from ', {{ decimal_text('with_limit.credit_limit') }}, ' to ',
                                     {{ decimal_text('with_limit.new_credit_limit') }})
            when 'cut' then
                case when with_limit.new_credit_limit < with_limit.credit_limit
                     then concat('Cut the credit limit from ', {{ decimal_text('with_limit.credit_limit') }}, ' to ',
                                 {{ decimal_text('with_limit.new_credit_limit') }})
                     else concat('Cut the credit limit: it stays at ', {{ decimal_text('with_limit.credit_limit') }},
                                 ' because the balance already uses all of it; no new credit')
                end
            when 'freeze' then concat('Freeze the credit limit at ', {{ decimal_text('with_limit.new_credit_limit') }},
                                      ' (was ', {{ decimal_text('with_limit.credit_limit') }}, ', balance ',
                                      {{ decimal_text('with_limit.outstanding_base') }}, '): no new credit')
            when 'hold' then concat('Keep the credit limit at ', {{ decimal_text('with_limit.credit_limit') }})
            else 'No limit or pricing decision'
        end as action_en,
        case with_limit.limit_decision
            when 'raise' then concat('额度由', {{ decimal_text('with_limit.credit_limit') }}, '提高至', {{ decimal_text('with_limit.new_credit_limit') }})
            when 'cut' then
                case when with_limit.new_credit_limit < with_limit.credit_limit
                     then concat('额度由', {{ decimal_text('with_limit.credit_limit') }}, '下调至', {{ decimal_text('with_limit.new_credit_limit') }})
                     else concat('下调额度：余额已用满额度，额度维持', {{ decimal_text('with_limit.credit_limit') }}, '，不再新增授信')
                end
            when 'freeze' then concat('冻结额度于', {{ decimal_text('with_limit.new_credit_limit') }}, '（原额度',
                                      {{ decimal_text('with_limit.credit_limit') }}, '，余额', {{ decimal_text('with_limit.outstanding_base') }},
                                      '），不再新增授信')
            when 'hold' then concat('维持额度', {{ decimal_text('with_limit.credit_limit') }})
            else '暂不调整额度与定价'
        end as action_zh
    from with_limit
    left join pricing
        on case when with_limit.is_already_defaulted and with_limit.has_score
                then '{{ var('credit_defaulted_pricing_band') }}' else with_limit.score_band end = pricing.score_band
),

final as (
    select
        -- keys
        explained.customer_id,
        explained.observation_date,
        as_of.as_of_date,
        -- score
        explained.has_score,
        explained.score,
        explained.pd,
        explained.score_band,
        explained.is_already_defaulted,
        explained.model_name,
        explained.model_version,
        -- collection list (mart_collection_strategy)
        explained.list_type,
        explained.overdue_type,
        explained.overdue_type_zh,
        explained.collection_credit_action,
        -- position as of the as-of date
        cast(explained.credit_limit as {{ money_type() }}) as credit_limit,
        cast(explained.outstanding_base as {{ money_type() }}) as outstanding_base,
        cast(explained.past_due_base as {{ money_type() }}) as past_due_base,
        explained.days_past_due,
        explained.utilisation,
        cast(explained.headroom_base as {{ money_type() }}) as headroom_base,
        -- credit-limit decision
        explained.limit_decision,
        explained.decision_reason,
        explained.new_credit_limit,
        cast(explained.new_credit_limit - explained.credit_limit as {{ money_type() }}) as limit_change_base,
        -- pricing
        explained.pricing_tier,
        explained.rate_add_on_bps,
        explained.pricing_label_en,
        explained.pricing_label_zh,
        -- explanation
        case
            when not explained.has_score then concat(explained.action_en, '. Why: ', explained.reason_en, '.')
            else concat(
                explained.action_en, '. Why: ', explained.reason_en, '. ',
                case when explained.is_already_defaulted
                     then concat(cast(explained.days_past_due as {{ dbt.type_string() }}), ' days past due')
                     else concat('Score ', cast(explained.score as {{ dbt.type_string() }}), ' (band ', explained.score_band,
                                 ', probability of {{ var('risk_label_dpd') }}+ days past due within {{ var('risk_label_months') }} months ',
                                 {{ decimal_text('explained.pd * 100', 1) }}, '%)')
                end,
                '; ', {{ decimal_text('explained.utilisation * 100', 0) }}, '% of the limit used, ',
                {{ decimal_text('explained.past_due_base') }}, ' past due',
                case when explained.list_type is not null
                     then concat(', on the ', explained.list_type, ' list',
                                 case when explained.overdue_type is not null
                                      then concat(' (', explained.overdue_type, ')') else '' end)
                     else '' end,
                '. Pricing: ', coalesce(explained.pricing_label_en, '-'), ', +',
                coalesce(cast(explained.rate_add_on_bps as {{ dbt.type_string() }}), '-'), ' bps.')
        end as explanation_en,
        case
            when not explained.has_score then concat(explained.action_zh, '。原因：', explained.reason_zh, '。')
            else concat(
                explained.action_zh, '。原因：', explained.reason_zh, '。',
                case when explained.is_already_defaulted
                     then concat('逾期', cast(explained.days_past_due as {{ dbt.type_string() }}), '天')
                     else concat('评分', cast(explained.score as {{ dbt.type_string() }}), '（', explained.score_band,
                                 '档，未来{{ var('risk_label_months') }}个月内逾期{{ var('risk_label_dpd') }}天以上的概率',
                                 {{ decimal_text('explained.pd * 100', 1) }}, '%）')
                end,
                '；额度使用率', {{ decimal_text('explained.utilisation * 100', 0) }}, '%，逾期金额',
                {{ decimal_text('explained.past_due_base') }},
                case when explained.list_type = 'overdue'
                     then concat('，在逾期名单上', case when explained.overdue_type_zh is not null
                                                       then concat('（', explained.overdue_type_zh, '）') else '' end)
                     when explained.list_type = 'watch' then '，在观察名单上'
                     else '' end,
                '。定价：', coalesce(explained.pricing_label_zh, '-'), '，加点',
                coalesce(cast(explained.rate_add_on_bps as {{ dbt.type_string() }}), '-'), '个基点。')
        end as explanation_zh
    from explained
    cross join as_of
)

select * from final
