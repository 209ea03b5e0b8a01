/* grain: one row per valid customer: payment behaviour in a baseline window against a recent window
   (cadence, paid/billed ratio, partial payments, days to pay) and the early-warning flags they raise */

{%- set recent = var('pattern_recent_days') %}
{%- set baseline = var('pattern_baseline_days') %}

with

as_of as (select as_of_date from {{ ref('int_as_of_date') }}),

customers as (select customer_id from {{ ref('stg_customers') }}),

-- void (reversed or bounced) payments are ignored downstream
payments as (select * from {{ ref('stg_payments') }} where not coalesce(is_void, false)),

invoices as (select * from {{ ref('fct_invoices') }}),

linked_payments as (select * from {{ ref('int_linked_payments') }}),

-- every date is placed in the recent window (the last N days up to the as-of date), the baseline window
-- (the M days before that) or neither
windows as (
    select
        as_of_date,
        cast({{ dbt.dateadd('day', '-' ~ recent, 'as_of_date') }} as date) as recent_start_exclusive,
        cast({{ dbt.dateadd('day', '-' ~ (recent + baseline), 'as_of_date') }} as date) as baseline_start_exclusive
    from as_of
),

payment_gaps as (
    select
        payments.customer_id,
        payments.payment_date,
        payments.amount_base,
        {{ days_between('lag(payments.payment_date) over (partition by payments.customer_id order by payments.payment_date, payments.payment_id)', 'payments.payment_date') }} as days_since_previous
    from payments
    cross join windows
    where payments.payment_date <= windows.as_of_date
      and payments.payment_date > windows.baseline_start_exclusive
),

payments_windowed as (
    select
        payment_gaps.*,
        case when payment_gaps.payment_date > windows.recent_start_exclusive then 'recent' else 'baseline' end as window_name
    from payment_gaps
    cross join windows
),

payment_stats as (
    select
        customer_id,
        sum(case when window_name = 'baseline' then 1 else 0 end) as baseline_payment_count,
        sum(case when window_name = 'recent' then 1 else 0 end) as recent_payment_count,
        sum(case when window_name = 'baseline' then amount_base else 0 end) as baseline_paid_base,
        sum(case when window_name = 'recent' then amount_base else 0 end) as recent_paid_base,
        {{ median_of("case when window_name = 'baseline' then days_since_previous end") }} as baseline_median_gap_days,
        {{ median_of("case when window_name = 'recent' then days_since_previous end") }} as recent_median_gap_days
    from payments_windowed
    group by customer_id
),

billing as (
    select
        invoices.customer_id,
        sum(case when invoices.invoice_date > windows.recent_start_exclusive then invoices.amount_base else 0 end)
            as recent_billed_base,
        sum(case when invoices.invoice_date <= windows.recent_start_exclusive then invoices.amount_base else 0 end)
            as baseline_billed_base,
        avg(case when invoices.settled_date > windows.recent_start_exclusive
                 then {{ days_between('invoices.invoice_date', 'invoices.settled_date') }} end) as recent_days_to_pay,
        avg(case when invoices.settled_date <= windows.recent_start_exclusive
                  and invoices.settled_date > windows.baseline_start_exclusive
                 then {{ days_between('invoices.invoice_date', 'invoices.settled_date') }} end) as baseline_days_to_pay
    from invoices
    cross join windows
    where invoices.invoice_date > windows.baseline_start_exclusive
       or invoices.settled_date > windows.baseline_start_exclusive
    group by invoices.customer_id
),

-- a linked payment is partial when it pays its invoice less than the invoice's amount; the linked payment
-- carries that amount (a join to every invoice only to read it cost seconds at 1,000,000 customers)
partials as (
    select
        linked_payments.customer_id,
        sum(case when linked_payments.payment_date > windows.recent_start_exclusive then 1 else 0 end) as recent_linked_count,
        sum(case when linked_payments.payment_date > windows.recent_start_exclusive
                  and linked_payments.applied_amount < linked_payments.invoice_amount then 1 else 0 end) as recent_partial_count
    from linked_payments
    cross join windows
    where linked_payments.invoice_id is not null
      and linked_payments.payment_date > windows.baseline_start_exclusive
    group by linked_payments.customer_id
),

combined as (
    select
        customers.customer_id,
        windows.as_of_date,
        coalesce(payment_stats.baseline_payment_count, 0) as baseline_payment_count,
        coalesce(payment_stats.recent_payment_count, 0) as recent_payment_count,
        payment_stats.baseline_median_gap_days,
        payment_stats.recent_median_gap_days,
        {{ safe_divide('payment_stats.baseline_paid_base', 'billing.baseline_billed_base') }} as baseline_paid_ratio,
        {{ safe_divide('payment_stats.recent_paid_base', 'billing.recent_billed_base') }} as recent_paid_ratio,
        {{ safe_divide('partials.recent_partial_count', 'partials.recent_linked_count') }} as recent_partial_share,
        billing.baseline_days_to_pay,
        billing.recent_days_to_pay
    from customers
    cross join windows
    left join payment_stats on customers.customer_id = payment_stats.customer_id
    left join billing on customers.customer_id = billing.customer_id
    left join partials on customers.customer_id = partials.customer_id
),

flagged as (
    select
        *,
        coalesce(baseline_payment_count >= {{ var('pattern_min_payments') }}
            and recent_payment_count >= 2
            and recent_median_gap_days >= {{ var('pattern_cadence_slowdown_ratio') }} * baseline_median_gap_days, false)
            as is_cadence_slowed,
        coalesce(baseline_payment_count >= {{ var('pattern_min_payments') }} and recent_payment_count = 0, false)
            as is_payment_stopped,
        coalesce(recent_paid_ratio <= baseline_paid_ratio - {{ var('pattern_paid_ratio_drop') }}, false) as is_paying_less,
        coalesce(recent_partial_share >= {{ var('pattern_partial_share') }}, false) as is_partial_payer,
        coalesce(recent_days_to_pay >= baseline_days_to_pay + {{ var('pattern_days_to_pay_increase') }}, false)
            as is_days_to_pay_up
    from combined
),

final as (
    select
        -- keys
        customer_id,
        as_of_date,
        -- baseline vs recent
        baseline_payment_count,
        recent_payment_count,
        cast(baseline_median_gap_days as {{ dbt.type_float() }}) as baseline_median_gap_days,
        cast(recent_median_gap_days as {{ dbt.type_float() }}) as recent_median_gap_days,
        baseline_paid_ratio,
        recent_paid_ratio,
        recent_partial_share,
        cast(baseline_days_to_pay as {{ dbt.type_float() }}) as baseline_days_to_pay,
        cast(recent_days_to_pay as {{ dbt.type_float() }}) as recent_days_to_pay,
        -- flags
        is_cadence_slowed,
        is_payment_stopped,
        is_paying_less,
        is_partial_payer,
        is_days_to_pay_up,
        (is_cadence_slowed or is_payment_stopped or is_paying_less or is_partial_payer or is_days_to_pay_up)
            as has_pattern_change
    from flagged
)

select * from final
