/* grain: one row per valid customer as of the as-of date: the facts the overdue-type rules weigh
   (history before the current episode, the current episode, contact log, promises, finances, payment pattern),
   each as a number and as a yes/no evidence flag named like the reason codes */

with

as_of as (select as_of_date from {{ ref('int_as_of_date') }}),

-- imports read more than once are read again, not copied (macros/cte.sql)
aging as {{ not_materialized() }} (select * from {{ ref('fct_customer_aging') }}),

customers as (select * from {{ ref('dim_customers') }}),

invoices as (select * from {{ ref('fct_invoices') }}),

episodes as {{ not_materialized() }} (select * from {{ ref('fct_delinquency_episodes') }}),

patterns as (select * from {{ ref('fct_payment_pattern_changes') }}),

actions as {{ not_materialized() }} (select * from {{ ref('stg_collection_actions') }}),

-- void (reversed or bounced) payments are ignored downstream
payments as {{ not_materialized() }} (select * from {{ ref('stg_payments') }} where not coalesce(is_void, false)),

current_episode as (
    select customer_id, episode_start_date, peak_days_past_due
    from episodes
    where is_open
),

-- the window the evidence of "now" is read in: the current episode (plus a lead-in), else the recent past
evidence_window as (
    select
        aging.customer_id,
        current_episode.episode_start_date,
        coalesce(
            cast({{ dbt.dateadd('day', '-' ~ var('contact_lookback_days'), 'current_episode.episode_start_date') }} as date),
            cast({{ dbt.dateadd('day', '-' ~ var('watch_contact_days'), 'as_of.as_of_date') }} as date)
        ) as window_start,
        as_of.as_of_date
    from aging
    cross join as_of
    left join current_episode on aging.customer_id = current_episode.customer_id
),

history_before_episode as (
    select
        invoices.customer_id,
        count(*) as settled_invoice_count,
        sum(case when invoices.days_late <= {{ var('on_time_grace_days') }} then 1 else 0 end) as on_time_invoice_count
    from invoices
    inner join evidence_window on invoices.customer_id = evidence_window.customer_id
    where invoices.settled_date is not null
      and (evidence_window.episode_start_date is null or invoices.settled_date < evidence_window.episode_start_date)
    group by invoices.customer_id
),

prior_episodes as (
    select
        customer_id,
        sum(case when reached_overdue_threshold then 1 else 0 end) as prior_overdue_episodes,
        count(*) as prior_past_due_episodes
    from episodes
    where not is_open
    group by customer_id
),

contacts as (
    select
        actions.customer_id,
        count(*) as contact_count,
        sum(case when actions.outcome in ({{ sql_list(contact_outcomes('reached')) }}) then 1 else 0 end)
            as reached_count,
        sum(case when actions.outcome in ({{ sql_list(contact_outcomes('unreached')) }}) then 1 else 0 end) as unreached_count,
        sum(case when actions.outcome = 'wrong_contact' then 1 else 0 end) as wrong_contact_count,
        sum(case when actions.outcome = 'refused' then 1 else 0 end) as refusal_count,
        sum(case when actions.outcome = 'dispute' then 1 else 0 end) as dispute_count,
        sum(case when actions.outcome = 'hardship'
                  and actions.hardship_reason in ('illness', 'accident', 'job_loss', 'disaster') then 1 else 0 end)
            as acute_hardship_count,
        sum(case when actions.outcome = 'hardship'
                  and (actions.hardship_reason in ('business_downturn', 'other') or actions.hardship_reason is null)
                 then 1 else 0 end) as lasting_hardship_count,
        max(case when actions.outcome in ({{ sql_list(contact_outcomes('reached')) }})
                 then actions.action_date end) as last_reached_date,
        max(case when actions.outcome = 'dispute' then actions.action_date end) as last_dispute_date
    from actions
    inner join evidence_window
        on actions.customer_id = evidence_window.customer_id
       and actions.action_date >= evidence_window.window_start
       and actions.action_date <= evidence_window.as_of_date
    group by actions.customer_id
),

promises as (
    select
        actions.customer_id,
        actions.action_id,
        actions.action_date,
        actions.promised_date,
        actions.promised_amount,
        -- kept when paid by the promised date plus the grace days; a promise without a date has
        -- var promise_keep_days from the call
        {{ promise_keep_by_date('actions') }} as keep_by_date,
        evidence_window.as_of_date
    from actions
    inner join evidence_window
        on actions.customer_id = evidence_window.customer_id
       and actions.action_date >= evidence_window.window_start
       and actions.action_date <= evidence_window.as_of_date
    where actions.outcome = 'promise_to_pay'
),

promise_payments as (
    select
        promises.customer_id,
        promises.action_id,
        promises.promised_amount,
        promises.keep_by_date,
        promises.as_of_date,
        sum(payments.amount_base) as paid_base
    from promises
    left join payments
        on promises.customer_id = payments.customer_id
       and payments.payment_date >= promises.action_date
       and payments.payment_date <= promises.keep_by_date
       and payments.payment_date <= promises.as_of_date
    group by promises.customer_id, promises.action_id, promises.promised_amount, promises.keep_by_date,
             promises.as_of_date
),

promise_outcomes as (
    select
        customer_id,
        sum(case when {{ promise_is_kept('paid_base', 'promised_amount') }} then 1 else 0 end)
            as promises_kept,
        sum(case when keep_by_date < as_of_date
                  and not ({{ promise_is_kept('coalesce(paid_base, 0)', 'promised_amount') }})
                 then 1 else 0 end) as promises_broken,
        count(*) as promises_made
    from promise_payments
    group by customer_id
),

payments_since_dispute as (
    select contacts.customer_id, count(payments.payment_id) as payments_after_dispute
    from contacts
    left join payments
        on contacts.customer_id = payments.customer_id
       and payments.payment_date > contacts.last_dispute_date
    cross join as_of
    where contacts.last_dispute_date is not null
      and (payments.payment_date is null or payments.payment_date <= as_of.as_of_date)
    group by contacts.customer_id
),

combined as (
    select
        aging.customer_id,
        aging.as_of_date,
        aging.days_past_due,
        aging.overdue_base,
        aging.credit_utilisation,
        evidence_window.episode_start_date,
        case when evidence_window.episode_start_date is not null
             then {{ days_between('evidence_window.episode_start_date', 'aging.as_of_date') }} end as episode_days,
        case when aging.last_payment_date is not null
             then {{ days_between('aging.last_payment_date', 'aging.as_of_date') }} end as days_since_last_payment,
        coalesce(history_before_episode.settled_invoice_count, 0) as settled_invoice_count,
        {{ safe_divide('history_before_episode.on_time_invoice_count', 'history_before_episode.settled_invoice_count') }}
            as on_time_share,
        coalesce(prior_episodes.prior_overdue_episodes, 0) as prior_overdue_episodes,
        coalesce(prior_episodes.prior_past_due_episodes, 0) as prior_past_due_episodes,
        coalesce(contacts.contact_count, 0) as contact_count,
        coalesce(contacts.reached_count, 0) as reached_count,
        coalesce(contacts.unreached_count, 0) as unreached_count,
        coalesce(contacts.wrong_contact_count, 0) as wrong_contact_count,
        coalesce(contacts.refusal_count, 0) as refusal_count,
        coalesce(contacts.dispute_count, 0) as dispute_count,
        coalesce(contacts.acute_hardship_count, 0) as acute_hardship_count,
        coalesce(contacts.lasting_hardship_count, 0) as lasting_hardship_count,
        contacts.last_reached_date,
        coalesce(promise_outcomes.promises_made, 0) as promises_made,
        coalesce(promise_outcomes.promises_kept, 0) as promises_kept,
        coalesce(promise_outcomes.promises_broken, 0) as promises_broken,
        coalesce(payments_since_dispute.payments_after_dispute, 0) as payments_after_dispute,
        customers.customer_type,
        customers.annual_income,
        customers.debt_to_income,
        patterns.recent_partial_share,
        -- a customer without a payment-pattern row (no payments to compare) shows no pattern change
        coalesce(patterns.is_partial_payer, false) as is_partial_payer,
        coalesce(patterns.is_paying_less, false) as is_paying_less,
        coalesce(patterns.is_cadence_slowed, false) as is_cadence_slowed,
        coalesce(patterns.is_days_to_pay_up, false) as is_days_to_pay_up,
        coalesce(patterns.is_payment_stopped, false) as is_payment_stopped,
        coalesce(patterns.has_pattern_change, false) as has_pattern_change
    from aging
    inner join evidence_window on aging.customer_id = evidence_window.customer_id
    inner join customers on aging.customer_id = customers.customer_id
    left join patterns on aging.customer_id = patterns.customer_id
    left join history_before_episode on aging.customer_id = history_before_episode.customer_id
    left join prior_episodes on aging.customer_id = prior_episodes.customer_id
    left join contacts on aging.customer_id = contacts.customer_id
    left join promise_outcomes on aging.customer_id = promise_outcomes.customer_id
    left join payments_since_dispute on aging.customer_id = payments_since_dispute.customer_id
),

-- every flag is true or false, never null: each states (in the YAML) what missing data means for it
final as (
    select
        *,
        contact_count > 0 as has_contact_history,
        -- temporary: a good payer hit by a one-off shock
        coalesce(settled_invoice_count >= {{ var('good_history_min_invoices') }}
                 and on_time_share >= {{ var('good_history_on_time_share') }}, false) as ev_good_history,
        prior_overdue_episodes = 0 as ev_no_prior_episodes,
        coalesce(episode_days <= {{ var('recent_start_days') }}, false) as ev_recent_start,
        acute_hardship_count > 0 as ev_acute_hardship,
        reached_count > 0 and reached_count >= unreached_count as ev_reachable,
        promises_kept > 0 and promises_broken = 0 as ev_promises_kept,
        coalesce(debt_to_income <= {{ var('healthy_debt_to_income') }}, false) as ev_healthy_debt,
        -- chronic: the customer's own finances are weak
        prior_overdue_episodes >= {{ var('repeated_episodes_min') }} as ev_repeated_episodes,
        is_partial_payer as ev_partial_payments,
        is_paying_less as ev_paid_ratio_falling,
        is_cadence_slowed or is_days_to_pay_up as ev_cadence_slowing,
        coalesce(debt_to_income >= {{ var('high_debt_to_income') }}, false) as ev_high_debt,
        coalesce(credit_utilisation >= {{ var('high_utilisation') }}, false) as ev_high_utilisation,
        -- an empty customer_type is judged against the individual threshold (the lower one)
        case
            when annual_income is null then true
            when coalesce(customer_type, 'individual') = 'business'
                then annual_income < {{ var('low_income_business') }}
            else annual_income < {{ var('low_income_individual') }}
        end as ev_low_or_missing_income,
        lasting_hardship_count > 0 as ev_lasting_hardship,
        coalesce(episode_days >= {{ var('long_spell_days') }}
                 and days_since_last_payment < {{ var('no_payment_days') }}, false) as ev_paying_through_long_spell,
        coalesce(settled_invoice_count >= {{ var('good_history_min_invoices') }}
                 and on_time_share < {{ var('poor_history_on_time_share') }}, false) as ev_poor_history,
        -- stubborn: will not pay whatever is done
        coalesce(days_past_due >= {{ var('long_dpd_days') }}, false) as ev_long_dpd,
        coalesce(days_since_last_payment >= {{ var('no_payment_days') }}, true) as ev_no_payment_long,
        refusal_count > 0 as ev_refused,
        contact_count >= {{ var('unreachable_min_contacts') }}
            and unreached_count >= {{ var('unreachable_share') }} * contact_count as ev_unreachable,
        wrong_contact_count > 0 as ev_wrong_contact,
        promises_broken > 0 as ev_broken_promises,
        dispute_count > 0 and payments_after_dispute = 0 as ev_dispute_without_payment,
        contact_count > 0
            and coalesce({{ days_between('last_reached_date', 'as_of_date') }} >= {{ var('silence_days') }}, true)
            as ev_long_silence
    from combined
)

select * from final
