{{ config(severity='error') }}
/*
    Totals agree across the overdue facts (base currency, to the cent):
      1. sum(fct_customer_aging.outstanding_base) = sum(fct_invoices.outstanding_base), and per customer too;
      2. per customer, the bucket columns (bucket_<code>_base, one per row of seeds/aging_buckets.csv) add up to
         outstanding_base in fct_customer_aging (at every snapshot of fct_customer_aging_history: the generic
         test buckets_add_up on its outstanding_base, which a daily run scopes to the rows it wrote);
      3. per period, the bucket columns of mart_portfolio_monthly add up to its outstanding_base.
    If this fails, an invoice is missing from a customer's total or falls in no bucket (or two) - e.g. the aging
    buckets seed has a gap or an overlap - and aging reports do not add up to the receivables.
*/
-- depends_on: {{ ref('aging_buckets') }}

{%- set bucket_sum = bucket_total() %}

with

aging as (select * from {{ ref('fct_customer_aging') }}),

invoices as (select * from {{ ref('fct_invoices') }}),

portfolio as (select * from {{ ref('mart_portfolio_monthly') }}),

invoice_totals as (
    select customer_id, sum(outstanding_base) as outstanding_base
    from invoices
    group by customer_id
),

failures as (
    select
        'total outstanding: fct_customer_aging vs fct_invoices' as failed_check,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as date) as snapshot_date,
        (select sum(outstanding_base) from aging) as expected_amount,
        (select sum(outstanding_base) from invoices) as actual_amount
    where coalesce((select sum(outstanding_base) from aging), 0)
       <> coalesce((select sum(outstanding_base) from invoices), 0)

    union all

    select
        'customer outstanding: fct_customer_aging vs fct_invoices' as failed_check,
        aging.customer_id,
        aging.as_of_date as snapshot_date,
        aging.outstanding_base as expected_amount,
        coalesce(invoice_totals.outstanding_base, 0) as actual_amount
    from aging
    left join invoice_totals on aging.customer_id = invoice_totals.customer_id
    where aging.outstanding_base <> coalesce(invoice_totals.outstanding_base, 0)

    union all

    select
        'buckets <> outstanding in fct_customer_aging' as failed_check,
        customer_id,
        as_of_date as snapshot_date,
        outstanding_base as expected_amount,
        {{ bucket_sum }} as actual_amount
    from aging
    where outstanding_base <> {{ bucket_sum }}

    union all

    select
        'buckets <> outstanding in mart_portfolio_monthly' as failed_check,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        period_end as snapshot_date,
        outstanding_base as expected_amount,
        {{ bucket_sum }} as actual_amount
    from portfolio
    where outstanding_base <> {{ bucket_sum }}
)

select * from failures
