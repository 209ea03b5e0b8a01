/* grain: one row per assignment - a customer's unbroken run of consecutive runs of fct_strategy_assignments on
   the same strategy, test and arm, dated by its first day - with what followed it up to the as-of date: cure
   (the delinquency episode it started in ended), payments received, promises kept, and the aging bucket 30
   days on. An outcome is judged only once its window has passed (null before: not yet observed) */
-- depends_on: {{ ref('aging_buckets') }}

with

as_of as (select as_of_date from {{ ref('int_as_of_date') }}),

-- the assignments with the as-of date, the end of every window below (int_strategy_assignment_spells: a table,
-- so that each join below hashes them, not the payments or invoices it reads)
assignments as (
    select spells.*, as_of.as_of_date
    from {{ ref('int_strategy_assignment_spells') }} as spells
    cross join as_of
),

episodes as (select * from {{ ref('fct_delinquency_episodes') }}),

settlement as (select * from {{ ref('int_invoice_settlement') }}),

payments as (select * from {{ ref('stg_payments') }} where not is_void),

actions as (select * from {{ ref('stg_collection_actions') }}),

-- the past-due spell the customer was in on the day of the assignment; cured the day after it ended
cures as (
    select
        assignments.customer_id,
        assignments.assigned_date,
        max(case when not episodes.is_open
                 then {{ days_between('assignments.assigned_date', 'episodes.episode_end_date') }} + 1
            end) as days_to_cure,
        count(*) as episodes_found
    from assignments
    inner join episodes
        on assignments.customer_id = episodes.customer_id
       and episodes.episode_start_date <= assignments.assigned_date
       and (episodes.is_open or episodes.episode_end_date >= assignments.assigned_date)
    group by assignments.customer_id, assignments.assigned_date
),

received as (
    select
        assignments.customer_id,
        assignments.assigned_date,
        sum(case when payments.payment_date <= {{ dbt.dateadd('day', '30', 'assignments.assigned_date') }}
                 then payments.amount_base else 0 end) as recovered_30_base,
        sum(case when payments.payment_date <= {{ dbt.dateadd('day', '90', 'assignments.assigned_date') }}
                 then payments.amount_base else 0 end) as recovered_90_base
    from assignments
    inner join payments
        on assignments.customer_id = payments.customer_id
       and payments.payment_date > assignments.assigned_date
       and payments.payment_date <= {{ dbt.dateadd('day', '90', 'assignments.assigned_date') }}
       and payments.payment_date <= assignments.as_of_date
    group by assignments.customer_id, assignments.assigned_date
),

-- promises made within 30 days of the assignment; kept as in int_overdue_evidence (paid by the promised date
-- plus var promise_grace_days, at least var promise_kept_share of the amount), judged once that day has passed
promises as (
    select
        assignments.customer_id,
        assignments.assigned_date,
        actions.action_id,
        actions.action_date,
        actions.promised_amount,
        {{ promise_keep_by_date('actions') }} as keep_by_date
    from assignments
    inner join actions
        on assignments.customer_id = actions.customer_id
       and actions.action_date > assignments.assigned_date
       and actions.action_date <= {{ dbt.dateadd('day', '30', 'assignments.assigned_date') }}
    where actions.outcome = 'promise_to_pay'
),

promise_payments as (
    select
        promises.customer_id,
        promises.assigned_date,
        promises.action_id,
        promises.keep_by_date,
        max(promises.promised_amount) as promised_amount,
        sum(payments.amount_base) as paid_base
    from promises
    left join payments
        on promises.customer_id = payments.customer_id
       and payments.payment_date >= promises.action_date
       and payments.payment_date <= promises.keep_by_date
    group by promises.customer_id, promises.assigned_date, promises.action_id, promises.keep_by_date
),

promise_outcomes as (
    select
        promise_payments.customer_id,
        promise_payments.assigned_date,
        count(*) as promises_made,
        sum(case when promise_payments.keep_by_date <= as_of.as_of_date then 1 else 0 end) as promises_due,
        sum(case when promise_payments.keep_by_date <= as_of.as_of_date
                  and {{ promise_is_kept('coalesce(promise_payments.paid_base, 0)', 'promise_payments.promised_amount') }}
                 then 1 else 0 end) as promises_kept
    from promise_payments
    cross join as_of
    group by promise_payments.customer_id, promise_payments.assigned_date
),

-- days past due 30 days after the assignment: the oldest invoice due before that day and not settled by it
later_dpd as (
    select
        assignments.customer_id,
        assignments.assigned_date,
        max({{ days_between('settlement.due_date', dbt.dateadd('day', '30', 'assignments.assigned_date')) }})
            as days_past_due_30
    from assignments
    inner join settlement
        on assignments.customer_id = settlement.customer_id
       and settlement.invoice_date <= {{ dbt.dateadd('day', '30', 'assignments.assigned_date') }}
       and settlement.due_date < {{ dbt.dateadd('day', '30', 'assignments.assigned_date') }}
       and (settlement.settled_date is null
            or settlement.settled_date > {{ dbt.dateadd('day', '30', 'assignments.assigned_date') }})
    group by assignments.customer_id, assignments.assigned_date
),

observed as (
    select
        assignments.*,
        {{ days_between('assignments.assigned_date', 'assignments.as_of_date') }} as days_observed,
        coalesce(assignments.days_past_due_at_assignment > 0 and cures.episodes_found is not null, false) as was_past_due,
        cures.days_to_cure,
        received.recovered_30_base,
        received.recovered_90_base,
        coalesce(later_dpd.days_past_due_30, 0) as days_past_due_30,
        coalesce(promise_outcomes.promises_made, 0) as promises_made,
        coalesce(promise_outcomes.promises_due, 0) as promises_due,
        coalesce(promise_outcomes.promises_kept, 0) as promises_kept
    from assignments
    left join cures
        on assignments.customer_id = cures.customer_id and assignments.assigned_date = cures.assigned_date
    left join received
        on assignments.customer_id = received.customer_id and assignments.assigned_date = received.assigned_date
    left join later_dpd
        on assignments.customer_id = later_dpd.customer_id and assignments.assigned_date = later_dpd.assigned_date
    left join promise_outcomes
        on assignments.customer_id = promise_outcomes.customer_id
       and assignments.assigned_date = promise_outcomes.assigned_date
),

final as (
    select
        -- keys
        customer_id,
        assigned_date,
        as_of_date,
        -- what was issued
        list_type,
        segment,
        risk_band,
        strategy_code,
        test_id,
        variant,
        owner_team,
        first_action_code,
        first_action_channel,
        days_past_due_at_assignment,
        bucket_order_at_assignment,
        cast(at_stake_base as {{ money_type() }}) as at_stake_base,
        days_observed,
        was_past_due,
        -- cure: days past due back to 0 within n days, judged for assignments made while past due once n days
        -- have passed (is_cure_observed_n); flags are never null: not observed is false, told by the other flag
        days_to_cure,
        {%- for days in [30, 60, 90] %}
        was_past_due and days_observed >= {{ days }} as is_cure_observed_{{ days }},
        was_past_due and days_observed >= {{ days }} and coalesce(days_to_cure <= {{ days }}, false)
            as is_cured_{{ days }},
        {%- endfor %}
        -- money received after the assignment
        case when days_observed >= 30 then cast(coalesce(recovered_30_base, 0) as {{ money_type() }}) end
            as recovered_30_base,
        case when days_observed >= 90 then cast(coalesce(recovered_90_base, 0) as {{ money_type() }}) end
            as recovered_90_base,
        -- roll forward: a worse aging bucket 30 days on
        case when days_observed >= 30 then days_past_due_30 end as days_past_due_30,
        days_observed >= 30
        and coalesce({{ aging_bucket_order('days_past_due_30') }} > bucket_order_at_assignment, false)
            as is_rolled_forward_30,
        -- promises
        promises_made,
        promises_due,
        promises_kept
    from observed
)

select * from final
