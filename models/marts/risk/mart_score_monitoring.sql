/* grain: one row per scored observation date (month end): how the month's scores compare with the training
   score distribution (population stability index over the training bins, with its band), the month's mean PD
   and score, and, where outcomes are known, the observed bad rate (empty when the model wrote no scores).
   The population is the model's: customers not already in default on the date (var risk_label_dpd+ DPD rows
   carry no label, so training never saw them); they are counted apart in defaulted_count */

with

all_scores as (select * from {{ ref('stg_risk_scores') }}),

distribution as (select * from {{ ref('stg_risk_score_training_distribution') }}),

features as (select * from {{ ref('mart_risk_features') }}),

with_outcome as (
    select
        all_scores.*,
        features.label,
        coalesce(features.is_already_defaulted, false) as is_already_defaulted
    from all_scores
    left join features
        on all_scores.customer_id = features.customer_id
       and all_scores.observation_date = features.observation_date
),

defaulted as (
    select observation_date, model_version, count(*) as defaulted_count
    from with_outcome
    where is_already_defaulted
    group by observation_date, model_version
),

scores as (select * from with_outcome where not is_already_defaulted),

months as (
    select
        observation_date,
        model_name,
        model_version,
        count(*) as scored_count,
        {{ round_float('avg(pd)', 6) }} as mean_pd,
        {{ round_float('avg(cast(score as ' ~ dbt.type_float() ~ '))', 6) }} as mean_score,
        count(label) as labeled_count,
        {{ round_float('avg(cast(label as ' ~ dbt.type_float() ~ '))', 6) }} as observed_bad_rate,
        {{ round_float('avg(case when label is not null then pd end)', 6) }} as labeled_mean_pd
    from scores
    group by observation_date, model_name, model_version
),

-- bin k holds score_lower <= score < score_upper (a null bound is open), as the training side was counted
binned as (
    select
        scores.observation_date,
        scores.model_version,
        distribution.bin,
        count(*) as actual_count
    from scores
    inner join distribution
        on scores.model_version = distribution.model_version
       and (distribution.score_lower is null or scores.score >= distribution.score_lower)
       and (distribution.score_upper is null or scores.score < distribution.score_upper)
    group by scores.observation_date, scores.model_version, distribution.bin
),

-- every training bin for every month, so a bin the month left empty still counts
shares as (
    select
        months.observation_date,
        months.model_version,
        distribution.bin,
        greatest(distribution.train_share, {{ var('psi_share_floor') }}) as expected_share,
        greatest(
            cast(coalesce(binned.actual_count, 0) as {{ dbt.type_float() }}) / months.scored_count,
            {{ var('psi_share_floor') }}
        ) as actual_share
    from months
    inner join distribution on months.model_version = distribution.model_version
    left join binned
        on months.observation_date = binned.observation_date
       and months.model_version = binned.model_version
       and distribution.bin = binned.bin
),

stability as (
    select
        observation_date,
        model_version,
        count(*) as psi_bins,
        -- rounded: the order in which an engine adds the terms must not show in the last bits
        {{ round_float('sum((actual_share - expected_share) * ln(actual_share / expected_share))', 6) }} as psi
    from shares
    group by observation_date, model_version
),

final as (
    select
        -- keys
        months.observation_date,
        -- model
        months.model_name,
        months.model_version,
        -- the month's scores
        cast(months.scored_count as {{ dbt.type_bigint() }}) as scored_count,
        cast(coalesce(defaulted.defaulted_count, 0) as {{ dbt.type_bigint() }}) as defaulted_count,
        months.mean_pd,
        months.mean_score,
        -- stability against the training distribution
        stability.psi,
        case
            when stability.psi is null then null
            when stability.psi < {{ var('psi_watch') }} then 'stable'
            when stability.psi <= {{ var('psi_act') }} then 'watch'
            else 'act'
        end as psi_band,
        cast(stability.psi_bins as {{ dbt.type_bigint() }}) as psi_bins,
        -- outcomes known so far (label of mart_risk_features)
        cast(months.labeled_count as {{ dbt.type_bigint() }}) as labeled_count,
        months.observed_bad_rate,
        months.labeled_mean_pd,
        -- flags
        months.observation_date = max(months.observation_date) over () as is_latest
    from months
    left join stability
        on months.observation_date = stability.observation_date
       and months.model_version = stability.model_version
    left join defaulted
        on months.observation_date = defaulted.observation_date
       and months.model_version = defaulted.model_version
)

select * from final
