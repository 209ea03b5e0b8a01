/* grain: one row per as-of date x customer on the strategy lists that day: the strategy, test arm and first
   action the product issued, and where the customer stood. A log of what each run issued (the assignment on
   the day, never restated from later data): it grows by one as-of date per run and is not rebuilt from
   scratch (full_refresh: false); a second run on the same as-of date replaces that day's rows */

{{ config(**run_log_config()) }}

with

lists as (select * from {{ ref('mart_collection_strategy') }}),

final as (
    select
        -- keys
        as_of_date,
        customer_id,
        -- what was issued
        list_type,
        case when list_type = 'watch' then 'watch' else overdue_type end as segment,
        risk_band,
        strategy_code,
        test_id,
        variant,
        owner_team,
        next_step_number,
        next_action_code,
        next_action_channel,
        priority_rank,
        -- where the customer stood
        days_past_due,
        aging_bucket,
        outstanding_base,
        at_stake_base
    from lists
)

select * from final
