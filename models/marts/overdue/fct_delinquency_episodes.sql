/* grain: one row per spell of a customer being past due (any invoice unpaid after its due date), found by
   gaps and islands over the invoices' past-due intervals, as of the as-of date */

with

as_of as (select as_of_date from {{ ref('int_as_of_date') }}),

invoices as (select * from {{ ref('fct_invoices') }}),

-- only snapshots with something past due can raise an episode's peak: past_due_base is never negative, and the
-- peak is 0 where no snapshot is found (coalesce below). At 1,000,000 customers this leaves 15.7 M of the 36.5 M
-- rows for the range join (the query 17.9 s -> 12.5-13.2 s, same rows)
history as (
    select customer_id, snapshot_date, past_due_base
    from {{ ref('fct_customer_aging_history') }}
    where past_due_base > 0
),

current_aging as (select * from {{ ref('fct_customer_aging') }}),

-- each invoice is past due from the day after its due date to the day before it was settled (or to the as-of date)
intervals as (
    select
        invoices.customer_id,
        invoices.invoice_id,
        invoices.due_date,
        cast({{ dbt.dateadd('day', '1', 'invoices.due_date') }} as date) as past_due_from,
        coalesce(invoices.settled_date, cast({{ dbt.dateadd('day', '1', 'as_of.as_of_date') }} as date)) as past_due_until,
        invoices.settled_date is null as is_still_open,
        invoices.amount_base
    from invoices
    cross join as_of
    where coalesce(invoices.settled_date, cast({{ dbt.dateadd('day', '1', 'as_of.as_of_date') }} as date))
        > cast({{ dbt.dateadd('day', '1', 'invoices.due_date') }} as date)
),

ordered as (
    select
        *,
        max(past_due_until) over (
            partition by customer_id order by past_due_from, invoice_id
            rows between unbounded preceding and 1 preceding
        ) as previous_until
    from intervals
),

islands as (
    select
        *,
        sum(case when previous_until is null or past_due_from > previous_until then 1 else 0 end) over (
            partition by customer_id order by past_due_from, invoice_id
            rows between unbounded preceding and current row
        ) as episode_number
    from ordered
),

episodes as (
    select
        customer_id,
        episode_number,
        min(past_due_from) as episode_start_date,
        max(past_due_until) as past_due_until,
        max(case when is_still_open then 1 else 0 end) = 1 as is_open,
        max({{ days_between('due_date', 'past_due_until') }}) - 1 as peak_days_past_due,
        count(*) as invoice_count,
        sum(amount_base) as invoices_amount_base
    from islands
    group by customer_id, episode_number
),

-- the largest past-due balance seen at a snapshot inside the episode (and today, for open episodes)
peak_from_history as (
    select
        episodes.customer_id,
        episodes.episode_number,
        max(history.past_due_base) as peak_past_due_base
    from episodes
    inner join history
        on episodes.customer_id = history.customer_id
       and history.snapshot_date >= episodes.episode_start_date
       and history.snapshot_date < episodes.past_due_until
    group by episodes.customer_id, episodes.episode_number
),

final as (
    select
        -- keys
        episodes.customer_id,
        episodes.episode_number,
        -- dates
        episodes.episode_start_date,
        case when not episodes.is_open
             then cast({{ dbt.dateadd('day', '-1', 'episodes.past_due_until') }} as date) end as episode_end_date,
        as_of.as_of_date,
        -- measures
        episodes.peak_days_past_due,
        cast(case
            when episodes.is_open and current_aging.past_due_base > coalesce(peak_from_history.peak_past_due_base, 0)
                then current_aging.past_due_base
            else coalesce(peak_from_history.peak_past_due_base, 0)
        end as {{ money_type() }}) as peak_past_due_base,
        episodes.invoice_count,
        cast(episodes.invoices_amount_base as {{ money_type() }}) as invoices_amount_base,
        {{ days_between('episodes.episode_start_date', 'episodes.past_due_until') }} as episode_days,
        case when not episodes.is_open
             then {{ days_between('episodes.episode_start_date', 'episodes.past_due_until') }} end as days_to_cure,
        -- flags
        episodes.is_open,
        not episodes.is_open as is_cured,
        episodes.peak_days_past_due > {{ var('overdue_threshold_days') }} as reached_overdue_threshold
    from episodes
    cross join as_of
    left join peak_from_history
        on episodes.customer_id = peak_from_history.customer_id
       and episodes.episode_number = peak_from_history.episode_number
    left join current_aging on episodes.customer_id = current_aging.customer_id
)

select * from final
