/* grain: one row per valid contact-log entry (action_id unique) */
{{ config(materialized='view') }}

with

checked as (select * from {{ ref('stg_collection_actions_checked') }}),

final as (
    select
        action_id,
        customer_id,
        action_date,
        channel,
        outcome,
        hardship_reason,
        promised_amount,
        promised_date
    from checked
    where {{ staged_valid_rows() }}
)

select * from final
