/* grain: one row per piece of money applied to an invoice as of the as-of date: (invoice, source document)
   where the source is a linked payment, or customer credit (unapplied payment, credit note, excess of a
   linked payment) allocated oldest due date first */

{#-
    Set-based FIFO, no loops. Per customer and currency, the invoices' unpaid remainders (after linked
    payments) are laid end to end in (due_date, invoice_date, invoice_id) order on a money axis, and the
    credits in (credit_date, source_id) order on the same axis. Every point where either an invoice or a
    credit ends is a breakpoint; between two consecutive breakpoints exactly one invoice meets exactly one
    credit, so the segments are the allocation. The invoice (credit) of a segment is found by counting the
    invoice (credit) ends before it: equality joins and running sums only, portable to every engine.
-#}

{#-
    Incremental (macros/restated.sql): a daily run recomputes only the customers with a document dated since
    the previous run's as-of date or changed since (fingerprint), after deleting their rows (pre-hook); every
    other customer's rows stand. A full refresh computes everyone. The result equals a full refresh.
-#}
{{ config(**per_customer_incremental()) }}

with

as_of as (select as_of_date from {{ ref('int_as_of_date') }}),
{{- restated_cte() }}

-- imports read more than once are read again, not copied (macros/cte.sql)
invoices as {{ not_materialized() }} (select * from {{ ref('stg_invoices') }}{{ only_restated() }}),

linked_payments as {{ not_materialized() }} (select * from {{ restated_rows('int_linked_payments', 'linked_payments') }}),

open_invoices as (
    select
        invoices.invoice_id,
        invoices.customer_id,
        invoices.currency,
        invoices.invoice_date,
        invoices.due_date,
        invoices.amount
    from invoices
    cross join as_of
    where {{ posted_as_of('invoice') }}
),

linked_paid as (
    select invoice_id, sum(applied_amount) as linked_amount
    from linked_payments
    where invoice_id is not null
    group by invoice_id
),

remainders as (
    select
        open_invoices.invoice_id,
        open_invoices.customer_id,
        open_invoices.currency,
        open_invoices.invoice_date,
        open_invoices.due_date,
        cast(open_invoices.amount - coalesce(linked_paid.linked_amount, 0) as {{ money_type() }}) as remainder
    from open_invoices
    left join linked_paid on open_invoices.invoice_id = linked_paid.invoice_id
),

invoice_axis as (
    select
        invoice_id,
        customer_id,
        currency,
        invoice_date,
        row_number() over (
            partition by customer_id, currency order by due_date, invoice_date, invoice_id
        ) as invoice_seq,
        sum(remainder) over (
            partition by customer_id, currency order by due_date, invoice_date, invoice_id
            rows between unbounded preceding and current row
        ) as axis_end
    from remainders
    where remainder > 0
),

credits as (
    select
        customer_id,
        currency,
        payment_date as credit_date,
        payment_id as source_id,
        case when invoice_id is null then 'unapplied_payment' else 'linked_payment_excess' end as source_type,
        credit_amount
    from linked_payments
    where credit_amount > 0

    union all

    select
        invoices.customer_id,
        invoices.currency,
        invoices.invoice_date as credit_date,
        invoices.invoice_id as source_id,
        'credit_note' as source_type,
        invoices.amount as credit_amount
    from invoices
    cross join as_of
    where {{ posted_as_of('credit_note') }}
),

credit_axis as (
    select
        customer_id,
        currency,
        credit_date,
        source_id,
        source_type,
        row_number() over (
            partition by customer_id, currency order by credit_date, source_type, source_id
        ) as credit_seq,
        sum(credit_amount) over (
            partition by customer_id, currency order by credit_date, source_type, source_id
            rows between unbounded preceding and current row
        ) as axis_end
    from credits
),

-- money that can be allocated per customer and currency: the smaller of open remainders and credit
capacity as (
    select
        coalesce(i.customer_id, c.customer_id) as customer_id,
        coalesce(i.currency, c.currency) as currency,
        case when coalesce(i.total, 0) < coalesce(c.total, 0) then coalesce(i.total, 0) else coalesce(c.total, 0) end
            as allocatable
    from (select customer_id, currency, max(axis_end) as total from invoice_axis group by customer_id, currency) as i
    full outer join (select customer_id, currency, max(axis_end) as total from credit_axis group by customer_id, currency) as c
        on i.customer_id = c.customer_id and i.currency = c.currency
),

breakpoints as (
    select customer_id, currency, axis_end as position, 1 as invoice_ends, 0 as credit_ends from invoice_axis
    union all
    select customer_id, currency, axis_end as position, 0 as invoice_ends, 1 as credit_ends from credit_axis
    union all
    -- the allocation stops where the smaller side runs out
    select customer_id, currency, allocatable as position, 0 as invoice_ends, 0 as credit_ends from capacity
),

points as (
    select
        breakpoints.customer_id,
        breakpoints.currency,
        breakpoints.position,
        sum(breakpoints.invoice_ends) as invoice_ends,
        sum(breakpoints.credit_ends) as credit_ends
    from breakpoints
    inner join capacity
        on breakpoints.customer_id = capacity.customer_id
       and breakpoints.currency = capacity.currency
    where breakpoints.position <= capacity.allocatable
      and capacity.allocatable > 0
    group by breakpoints.customer_id, breakpoints.currency, breakpoints.position
),

segments as (
    select
        customer_id,
        currency,
        position,
        coalesce(lag(position) over (partition by customer_id, currency order by position), 0) as previous_position,
        -- counts as bigint, the type of the axes' row_number(): a sum of integers is 128-bit on DuckDB, and
        -- the joins below then widened every axis key to it
        cast(coalesce(sum(invoice_ends) over (
            partition by customer_id, currency order by position
            rows between unbounded preceding and 1 preceding
        ), 0) + 1 as {{ dbt.type_bigint() }}) as invoice_seq,
        cast(coalesce(sum(credit_ends) over (
            partition by customer_id, currency order by position
            rows between unbounded preceding and 1 preceding
        ), 0) + 1 as {{ dbt.type_bigint() }}) as credit_seq
    from points
),

pool_allocation as (
    select
        invoice_axis.invoice_id,
        segments.customer_id,
        segments.currency,
        credit_axis.source_type,
        credit_axis.source_id,
        credit_axis.credit_date as source_date,
        cast(segments.position - segments.previous_position as {{ money_type() }}) as allocated_amount,
        case when credit_axis.credit_date > invoice_axis.invoice_date
             then credit_axis.credit_date else invoice_axis.invoice_date end as allocation_date
    from segments
    inner join invoice_axis
        on segments.customer_id = invoice_axis.customer_id
       and segments.currency = invoice_axis.currency
       and segments.invoice_seq = invoice_axis.invoice_seq
    inner join credit_axis
        on segments.customer_id = credit_axis.customer_id
       and segments.currency = credit_axis.currency
       and segments.credit_seq = credit_axis.credit_seq
    where segments.position > segments.previous_position
),

linked_allocation as (
    select
        invoice_id,
        customer_id,
        currency,
        'linked_payment' as source_type,
        payment_id as source_id,
        payment_date as source_date,
        applied_amount as allocated_amount,
        case when payment_date > invoice_date then payment_date else invoice_date end as allocation_date
    from linked_payments
    -- a linked payment's invoice is payable as of the as-of date, i.e. one of open_invoices
    where invoice_id is not null
      and applied_amount > 0
),

final as (
    select * from linked_allocation
    union all
    select * from pool_allocation
)

select * from final
