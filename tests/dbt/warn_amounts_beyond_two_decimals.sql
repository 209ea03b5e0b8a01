{{ config(severity='warn') }}
/*
    Data-quality concern (failure policy: warn, never stop): money amounts delivered with more than two decimals
    (100.005, 1.0001). Staging keeps money to the cent (money_type(), rounded half away from zero), so these are
    rounded; this test names every such row (table, key, column, value as delivered) so the rounding is never
    silent: the count shows in run_results.json and the pipeline's run summary. Trailing zeros (1.500) are exact
    and not reported.
*/
{%- set money_columns = {
    'invoices': ('invoice_id', ['amount']),
    'payments': ('payment_id', ['amount']),
    'customers': ('customer_id', ['credit_limit', 'annual_income', 'total_debt']),
    'collection_actions': ('action_id', ['promised_amount']),
} %}

with

{% for table_name, spec in money_columns.items() %}
raw_{{ table_name }} as ({{ raw_source(table_name) }}),
{% endfor %}

delivered as (
    {%- for table_name, spec in money_columns.items() %}
    {%- set outer_loop = loop %}
    {%- for col in spec[1] %}
    select
        '{{ table_name }}' as source_table,
        {{ clean_text(spec[0]) }} as record_key,
        '{{ col }}' as column_name,
        {{ clean_text(col) }} as value_delivered
    from raw_{{ table_name }}
    {{ 'union all' if not (outer_loop.last and loop.last) }}
    {%- endfor %}
    {%- endfor %}
),

final as (
    select source_table, record_key, column_name, value_delivered
    from delivered
    where value_delivered is not null
      and {{ try_cast_decimal('value_delivered', 38, 9) }} <> {{ try_cast_decimal('value_delivered', 38, 2) }}
)

select * from final
