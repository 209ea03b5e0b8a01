/* grain: one row per valid customer as of the as-of date: what it owes, how late, in which buckets */
-- depends_on: {{ ref('aging_buckets') }}

with

as_of as (select as_of_date from {{ ref('int_as_of_date') }}),

customers as (select * from {{ ref('stg_customers') }}),

settlement as (select customer_id, amount_base from {{ ref('int_invoice_settlement') }}),

open_invoices as (select * from {{ ref('fct_invoices') }} where is_open),

-- void (reversed or bounced) payments are ignored downstream
payments as (select * from {{ ref('stg_payments') }} where not coalesce(is_void, false)),

credit as (select * from {{ ref('int_customer_credit') }}),

-- every invoice issued counts in what was invoiced; only the open ones (fct_invoices.is_open: not settled) can
-- be unpaid, past due or in a bucket, so the as-of projection reads those alone (a settled invoice adds zero)
invoiced as (
    select customer_id, sum(amount_base) as invoiced_base
    from settlement
    group by customer_id
),

open_totals as (
    select
        customer_id,
        sum(outstanding_base) as outstanding_base,
        sum(case when days_past_due > 0 then outstanding_base else 0 end) as past_due_base,
        sum(case when days_past_due > {{ var('overdue_threshold_days') }} then outstanding_base else 0 end)
            as overdue_base,
        max(case when outstanding_amount > 0 then days_past_due else 0 end) as days_past_due,
        sum(case when days_past_due > 0 then 1 else 0 end) as past_due_invoice_count,
        sum(case when days_past_due > {{ var('overdue_threshold_days') }} then 1 else 0 end) as overdue_invoice_count,
        sum(case when outstanding_amount > 0 then 1 else 0 end) as open_invoice_count,
        min(case when days_past_due > 0 then due_date end) as oldest_past_due_date,
        {%- for b in aging_bucket_rows() %}
        sum(case when aging_bucket = '{{ b["code"] }}' then outstanding_base else 0 end) as bucket_{{ b['code'] }}_base{{ "," if not loop.last }}
        {%- endfor %}
    from open_invoices
    group by customer_id
),

payments_as_of as (
    select payments.customer_id, payments.payment_id, payments.payment_date, payments.amount_base
    from payments
    cross join as_of
    where payments.payment_date <= as_of.as_of_date
),

-- the latest payment (latest date, then the highest payment_id), by aggregates: a window ordering every payment
-- of every customer cost four times as much
last_payment_date as (
    select customer_id, max(payment_date) as last_payment_date
    from payments_as_of
    group by customer_id
),

last_payment_id as (
    select payments_as_of.customer_id, max(payments_as_of.payment_id) as payment_id
    from payments_as_of
    inner join last_payment_date
        on payments_as_of.customer_id = last_payment_date.customer_id
       and payments_as_of.payment_date = last_payment_date.last_payment_date
    group by payments_as_of.customer_id
),

last_payment as (
    select
        payments_as_of.customer_id,
        payments_as_of.payment_date as last_payment_date,
        payments_as_of.amount_base as last_payment_base
    from payments_as_of
    inner join last_payment_id on payments_as_of.payment_id = last_payment_id.payment_id
),

credit_totals as (
    select customer_id, sum(unapplied_credit_base) as unapplied_credit_base
    from credit
    group by customer_id
),

final as (
    select
        -- keys
        customers.customer_id,
        as_of.as_of_date,
        -- amounts (base currency; unpaid amounts revalued at the as-of date)
        cast(coalesce(invoiced.invoiced_base, 0) as {{ money_type() }}) as invoiced_base,
        cast(coalesce(open_totals.outstanding_base, 0) as {{ money_type() }}) as outstanding_base,
        cast(coalesce(open_totals.past_due_base, 0) as {{ money_type() }}) as past_due_base,
        cast(coalesce(open_totals.overdue_base, 0) as {{ money_type() }}) as overdue_base,
        cast(coalesce(credit_totals.unapplied_credit_base, 0) as {{ money_type() }}) as unapplied_credit_base,
        {%- for b in aging_bucket_rows() %}
        cast(coalesce(open_totals.bucket_{{ b['code'] }}_base, 0) as {{ money_type() }}) as bucket_{{ b['code'] }}_base,
        {%- endfor %}
        -- lateness
        coalesce(open_totals.days_past_due, 0) as days_past_due,
        {{ aging_bucket('coalesce(open_totals.days_past_due, 0)') }} as aging_bucket,
        coalesce(open_totals.open_invoice_count, 0) as open_invoice_count,
        coalesce(open_totals.past_due_invoice_count, 0) as past_due_invoice_count,
        coalesce(open_totals.overdue_invoice_count, 0) as overdue_invoice_count,
        open_totals.oldest_past_due_date,
        -- payments
        last_payment.last_payment_date,
        cast(last_payment.last_payment_base as {{ money_type() }}) as last_payment_base,
        -- credit limit
        customers.credit_limit,
        case when customers.credit_limit > 0
             then cast({{ divide_round('coalesce(open_totals.outstanding_base, 0)', 'customers.credit_limit', 4) }} as decimal(24, 4))
        end as credit_utilisation,
        -- flags: DPD above the threshold on an unpaid amount above the materiality floor
        coalesce(open_totals.overdue_base, 0) > {{ var('materiality_floor') }} as is_overdue,
        coalesce(open_totals.past_due_base, 0) > {{ var('materiality_floor') }} as is_past_due
    from customers
    cross join as_of
    left join invoiced on customers.customer_id = invoiced.customer_id
    left join open_totals on customers.customer_id = open_totals.customer_id
    left join last_payment on customers.customer_id = last_payment.customer_id
    left join credit_totals on customers.customer_id = credit_totals.customer_id
)

select * from final
