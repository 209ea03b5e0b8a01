/* grain: one row per customer per scored observation date (month end): the risk model's PD, points score and
   score band (empty when the model wrote no scores) */
{{ config(materialized='view') }}

with

scores as ({{ risk_source('risk_scores') }}),

final as (
    select
        -- keys
        customer_id,
        observation_date,
        -- score
        pd,
        score,
        upper(trim(score_band)) as score_band,
        -- model
        model_name,
        model_version,
        trained_at
    from scores
    where customer_id is not null
)

select * from final
