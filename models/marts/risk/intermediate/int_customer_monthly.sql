/* grain: one row per customer per month end, from the month of the customer's first invoice to the last month
   end on or before the as-of date: what was billed and paid in the month, contacts by outcome, and the
   balance and DPD at the month end (zero when nothing was unpaid) */

{#- Incremental (macros/restated.sql): a daily run recomputes the customers whose documents or contacts dated up
    to the latest month end or record changed, those the history restated in the same run, and everyone when a
    month end passes; the other customers' rows stay. -#}
{{ config(**per_customer_incremental(monthly=true, upstream='fct_customer_aging_history', chain_runs=true)) }}

with
{{- restated_cte() }}

month_ends as (
    select snapshot_date as month_end
    from {{ ref('int_snapshot_dates') }}
    where is_month_end
),

-- imports read more than once are read again, not copied (macros/cte.sql)
invoices as {{ not_materialized() }} (select * from {{ ref('fct_invoices') }}{{ only_restated() }}),

-- void (reversed or bounced) payments are ignored downstream
payments as (select * from {{ ref('stg_payments') }} where not coalesce(is_void, false){{ only_restated('and') }}),

actions as (select * from {{ ref('stg_collection_actions') }}{{ only_restated() }}),

history as (select * from {{ ref('fct_customer_aging_history') }}{{ only_restated() }}),

first_invoice as (
    select customer_id, min(invoice_date) as first_invoice_date
    from invoices
    group by customer_id
),

grid as (
    select first_invoice.customer_id, month_ends.month_end
    from first_invoice
    inner join month_ends on month_ends.month_end >= first_invoice.first_invoice_date
),

-- every source row keyed by (customer, month end), aggregated once below. Joining the grid to an aggregate
-- of each source made DuckDB hash the grid itself (its estimate of the grid's inequality join was 152 rows
-- against 24 M at 1,000,000 customers), and that pipeline ran out of memory at 4 and 5 GB; one aggregate
-- spills (docs/decisions.md, "Month-end rows from one aggregate, not four joins")
{%- set money_null = 'cast(null as ' ~ money_type() ~ ')' %}
{#- every column of monthly_rows with the value of a source that does not set it -#}
{%- set columns = [
    ('in_grid', '0'), ('billed_base', money_null), ('invoice_count', '0'), ('paid_base', money_null),
    ('payment_count', '0'), ('payment_date', 'cast(null as date)'), ('contact_count', '0'),
    ('unreached_count', '0'), ('refusal_count', '0'), ('promise_count', '0'), ('hardship_count', '0'),
    ('dispute_count', '0'), ('outstanding_base', money_null), ('overdue_base', money_null),
    ('days_past_due', 'cast(null as ' ~ dbt.type_bigint() ~ ')'),
] %}
{%- set sources = [
    {'relation': 'grid', 'month_end': 'month_end', 'sets': {'in_grid': '1'}},
    {'relation': 'invoices', 'month_end': month_end_of('invoice_date'),
     'sets': {'billed_base': 'amount_base', 'invoice_count': '1'}},
    {'relation': 'payments', 'month_end': month_end_of('payment_date'),
     'sets': {'paid_base': 'amount_base', 'payment_count': '1', 'payment_date': 'payment_date'}},
    {'relation': 'actions', 'month_end': month_end_of('action_date'),
     'sets': {'contact_count': '1',
              'unreached_count': 'case when outcome in (' ~ sql_list(contact_outcomes('unreached')) ~ ') then 1 else 0 end',
              'refusal_count': "case when outcome = 'refused' then 1 else 0 end",
              'promise_count': "case when outcome = 'promise_to_pay' then 1 else 0 end",
              'hardship_count': "case when outcome = 'hardship' then 1 else 0 end",
              'dispute_count': "case when outcome = 'dispute' then 1 else 0 end"}},
    {'relation': 'history', 'month_end': 'snapshot_date', 'where': 'is_month_end',
     'sets': {'outstanding_base': 'outstanding_base', 'overdue_base': 'overdue_base', 'days_past_due': 'days_past_due'}},
] %}
monthly_rows as (
    {%- for source in sources %}
    {{ 'union all' if not loop.first }}
    select
        customer_id,
        {{ source['month_end'] }}{{ ' as month_end' if source['month_end'] != 'month_end' }},
        {%- for name, default in columns %}
        {%- set value = source['sets'].get(name, default) %}
        {{ value }}{{ (' as ' ~ name) if value != name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ source['relation'] }}
    {%- if source.get('where') %}
    where {{ source['where'] }}
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        -- keys
        customer_id,
        month_end,
        -- activity in the month
        cast(coalesce(sum(billed_base), 0) as {{ money_type() }}) as billed_base,
        cast(sum(invoice_count) as {{ dbt.type_bigint() }}) as invoice_count,
        cast(coalesce(sum(paid_base), 0) as {{ money_type() }}) as paid_base,
        cast(sum(payment_count) as {{ dbt.type_bigint() }}) as payment_count,
        max(payment_date) as last_payment_date,
        cast(sum(contact_count) as {{ dbt.type_bigint() }}) as contact_count,
        sum(unreached_count) as unreached_count,
        sum(refusal_count) as refusal_count,
        sum(promise_count) as promise_count,
        sum(hardship_count) as hardship_count,
        sum(dispute_count) as dispute_count,
        -- state at the month end (at most one history row: max picks it)
        cast(coalesce(max(outstanding_base), 0) as {{ money_type() }}) as outstanding_base,
        cast(coalesce(max(overdue_base), 0) as {{ money_type() }}) as overdue_base,
        coalesce(max(days_past_due), 0) as days_past_due
    from monthly_rows
    group by customer_id, month_end
    -- only the grid's months: not the months before the first invoice or after the last month end
    having max(in_grid) = 1
)

select * from final
