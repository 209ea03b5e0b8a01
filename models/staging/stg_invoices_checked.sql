/* grain: one row per row of the raw invoices input, valid or not, with its quarantine reason (null = valid) */
-- depends_on: {{ source('raw', 'invoices') }}
{{ config(**staging_incremental('invoices')) }}

with

-- on a daily run of loads, only the rows it restates (macros/staging_delta.sql)
{%- set staged = staged_raw('invoices') %}
raw as ({{ staged }}),

{{ staging_lookup_ctes('invoices') }},

cleaned as (
    select
        {{ clean_text('invoice_id') }} as invoice_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_text('invoice_date') }} as invoice_date_text,
        {{ clean_text('due_date') }} as due_date_text,
        {{ clean_text('amount') }} as amount_text,
        coalesce(upper({{ clean_text('currency') }}), '{{ var("base_currency") }}') as currency,
        coalesce({{ clean_code('document_type') }}, 'invoice') as document_type,
        coalesce({{ clean_code('status') }}, 'posted') as status,
        {{ raw_columns('invoices') }},
        load_generation
    from raw
),

typed as (
    select
        *,
        {{ try_cast_date('invoice_date_text') }} as invoice_date,
        {{ try_cast_date('due_date_text') }} as due_date,
        {{ try_cast_decimal('amount_text') }} as amount
    from cleaned
),

-- keys delivered more than once: every row of such a key is set aside
duplicate_keys as (
    {{ duplicate_keys('invoices', rows=staged) }}
),

checked as (
    select
        typed.invoice_id,
        typed.customer_id,
        typed.invoice_date,
        typed.due_date,
        typed.amount,
        typed.currency,
        typed.document_type,
        typed.status,
        typed.status = 'void' as is_void,
        typed.document_type = 'credit_note' as is_credit_note,
        {{ rate_to_base('typed.currency', 'fx_daily.rate_to_base') }} as fx_rate_to_base,
        {{ amount_to_base('typed.amount', 'typed.currency', 'fx_daily.rate_to_base') }} as amount_base,
        case
            when typed.invoice_id is null then 'null_key'
            when duplicate_keys.invoice_id is not null then 'duplicate_key'
            when typed.customer_id is null or typed.invoice_date_text is null
              or typed.due_date_text is null or typed.amount_text is null then 'missing_required'
            when typed.invoice_date is null or typed.due_date is null then 'invalid_date'
            when typed.invoice_date > {{ document_cutoff_sql() }} then 'future_date'
            when typed.amount is null then 'invalid_amount'
            when typed.amount <= 0 then 'non_positive_amount'
            when typed.document_type not in ({{ sql_list(contract_codes('document_type')) }})
              or typed.status not in ({{ sql_list(contract_codes('status')) }}) then 'invalid_code'
            when typed.due_date < typed.invoice_date then 'due_before_invoice'
            when customers.customer_id is null then 'unknown_customer'
            when typed.currency <> '{{ var("base_currency") }}' and known_currencies.currency is null then 'unknown_currency'
            when typed.currency <> '{{ var("base_currency") }}' and fx_daily.rate_to_base is null then 'missing_fx_rate'
        end as reason_code,
        {{ staging_reference_state('invoices', 'typed') }} as reference_state,
        typed.load_generation,
        {{ beyond_cents([('amount', 'typed.amount_text', 'typed.amount')]) }} as beyond_cents,
        {{ raw_columns('invoices', 'typed.') }}
    from typed
    left join duplicate_keys on typed.invoice_id = duplicate_keys.invoice_id
    {{ staging_lookup_joins('invoices', 'typed') }}
),

final as (
    select
        invoice_id,
        customer_id,
        invoice_date,
        due_date,
        amount,
        currency,
        document_type,
        status,
        is_void,
        is_credit_note,
        fx_rate_to_base,
        amount_base,
        reason_code,
        -- the raw row as delivered, kept for quarantined rows only (a valid row is its typed columns)
        case when reason_code is not null then {{ raw_row_text('invoices', 'raw__') }} end as raw_row,
        -- money delivered with more than two decimals, rounded to the cent (warn_amounts_beyond_two_decimals)
        beyond_cents,
        raw__source_load as source_load,
        -- what incremental staging compares on a daily run (macros/staging_delta.sql)
        reference_state,
        load_generation,
        '{{ staging_rules_version('invoices') }}' as rules_version
    from checked
)

select * from final
