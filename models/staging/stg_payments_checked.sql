/* grain: one row per row of the raw payments input, valid or not, with its quarantine reason (null = valid) */
-- depends_on: {{ source('raw', 'payments') }}
{{ config(**staging_incremental('payments')) }}

with

-- on a daily run of loads, only the rows it restates (macros/staging_delta.sql)
{%- set delta = staging_delta_active(this, 'payments') %}
{%- set staged = staged_raw('payments', delta) %}
raw as ({{ staged }}),

{{ staging_lookup_ctes('payments', invoice_ids=('select ' ~ clean_text('invoice_id') ~ ' from raw') if delta else none) }},

cleaned as (
    select
        {{ clean_text('payment_id') }} as payment_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_text('invoice_id') }} as invoice_id,
        {{ clean_text('payment_date') }} as payment_date_text,
        {{ clean_text('amount') }} as amount_text,
        coalesce(upper({{ clean_text('currency') }}), '{{ var("base_currency") }}') as currency,
        {{ clean_code('method') }} as method,
        coalesce({{ clean_code('status') }}, 'posted') as status,
        {{ raw_columns('payments') }},
        load_generation
    from raw
),

typed as (
    select
        *,
        {{ try_cast_date('payment_date_text') }} as payment_date,
        {{ try_cast_decimal('amount_text') }} as amount
    from cleaned
),

-- keys delivered more than once: every row of such a key is set aside
duplicate_keys as (
    {{ duplicate_keys('payments', rows=staged) }}
),

checked as (
    select
        typed.payment_id,
        typed.customer_id,
        typed.invoice_id,
        typed.payment_date,
        typed.amount,
        typed.currency,
        typed.method,
        typed.status,
        typed.status = 'void' as is_void,
        {{ rate_to_base('typed.currency', 'fx_daily.rate_to_base') }} as fx_rate_to_base,
        {{ amount_to_base('typed.amount', 'typed.currency', 'fx_daily.rate_to_base') }} as amount_base,
        case
            when typed.payment_id is null then 'null_key'
            when duplicate_keys.payment_id is not null then 'duplicate_key'
            when typed.customer_id is null or typed.payment_date_text is null
              or typed.amount_text is null then 'missing_required'
            when typed.payment_date is null then 'invalid_date'
            when typed.payment_date > {{ document_cutoff_sql() }} then 'future_date'
            when typed.amount is null then 'invalid_amount'
            when typed.amount <= 0 then 'non_positive_amount'
            when typed.status not in ({{ sql_list(contract_codes('status')) }}) then 'invalid_code'
            when customers.customer_id is null then 'unknown_customer'
            when typed.invoice_id is not null and invoices.invoice_id is null then 'unknown_invoice'
            when typed.invoice_id is not null and invoices.customer_id <> typed.customer_id then 'invoice_customer_mismatch'
            when typed.currency <> '{{ var("base_currency") }}' and known_currencies.currency is null then 'unknown_currency'
            when typed.currency <> '{{ var("base_currency") }}' and fx_daily.rate_to_base is null then 'missing_fx_rate'
        end as reason_code,
        {{ staging_reference_state('payments', 'typed') }} as reference_state,
        typed.load_generation,
        {{ beyond_cents([('amount', 'typed.amount_text', 'typed.amount')]) }} as beyond_cents,
        {{ raw_columns('payments', 'typed.') }}
    from typed
    left join duplicate_keys on typed.payment_id = duplicate_keys.payment_id
    {{ staging_lookup_joins('payments', 'typed') }}
),

final as (
    select
        payment_id,
        customer_id,
        invoice_id,
        payment_date,
        amount,
        currency,
        method,
        status,
        is_void,
        fx_rate_to_base,
        amount_base,
        reason_code,
        -- the raw row as delivered, kept for quarantined rows only (a valid row is its typed columns)
        case when reason_code is not null then {{ raw_row_text('payments', 'raw__') }} end as raw_row,
        -- money delivered with more than two decimals, rounded to the cent (warn_amounts_beyond_two_decimals)
        beyond_cents,
        raw__source_load as source_load,
        -- what incremental staging compares on a daily run (macros/staging_delta.sql)
        reference_state,
        load_generation,
        '{{ staging_rules_version('payments') }}' as rules_version
    from checked
)

select * from final
