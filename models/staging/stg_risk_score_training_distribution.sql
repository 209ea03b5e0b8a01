/* grain: one row per score bin of the training distribution of the model that wrote the scores
   (bin k holds score_lower <= score < score_upper; a null bound is open); empty when no model was trained */
{{ config(materialized='view') }}

with

distribution as ({{ risk_source('risk_score_training_distribution') }}),

final as (
    select
        -- keys
        model_version,
        bin,
        -- bin
        score_lower,
        score_upper,
        train_count,
        train_share,
        -- model
        model_name,
        trained_at
    from distribution
)

select * from final
