/* grain: one row per assignment - a customer's unbroken run of consecutive runs of fct_strategy_assignments on
   the same strategy, test and arm - dated by the run that started it, up to the as-of date */
-- depends_on: {{ ref('aging_buckets') }}

{#
    A table of its own, not a CTE of int_strategy_outcomes: the outcomes join these assignments to every payment,
    settlement and promise of their customers, and DuckDB sizes each join from its inputs' estimates. Estimated
    through the log's window functions, the assignments looked like 126 billion rows (408,106 real at 1,000,000
    customers), so DuckDB hashed the 31 M payments and the 33 M invoices instead of them (docs/decisions.md,
    "Assignments are a table before their outcomes are joined").
#}

with

as_of as (select as_of_date from {{ ref('int_as_of_date') }}),

-- a log kept from later runs (a rebuild at an earlier as-of date) is not read: nothing after the as-of date
issued as (
    select assignments_log.*
    from {{ ref('fct_strategy_assignments') }} as assignments_log
    cross join as_of
    where assignments_log.as_of_date <= as_of.as_of_date
),

-- the runs in the log, in order: "consecutive" means the next run, whatever the calendar gap
runs as (
    select as_of_date, row_number() over (order by as_of_date) as run_number
    from (select distinct as_of_date from issued) as run_dates
),

sequenced as (
    select
        issued.*,
        runs.run_number,
        lag(runs.run_number) over (partition by issued.customer_id order by issued.as_of_date) as previous_run_number,
        lag(issued.strategy_code) over (partition by issued.customer_id order by issued.as_of_date) as previous_strategy_code,
        lag(coalesce(issued.test_id, '')) over (partition by issued.customer_id order by issued.as_of_date) as previous_test_id,
        lag(issued.variant) over (partition by issued.customer_id order by issued.as_of_date) as previous_variant
    from issued
    inner join runs on issued.as_of_date = runs.as_of_date
),

final as (
    select
        -- keys
        customer_id,
        as_of_date as assigned_date,
        -- what was issued
        list_type,
        segment,
        risk_band,
        strategy_code,
        test_id,
        variant,
        owner_team,
        next_action_code as first_action_code,
        next_action_channel as first_action_channel,
        -- the customer on the day
        days_past_due as days_past_due_at_assignment,
        {{ aging_bucket_order('days_past_due') }} as bucket_order_at_assignment,
        at_stake_base
    from sequenced
    where previous_run_number is null
       or previous_run_number <> run_number - 1
       or previous_strategy_code <> strategy_code
       or previous_test_id <> coalesce(test_id, '')
       or previous_variant <> variant
)

select * from final
