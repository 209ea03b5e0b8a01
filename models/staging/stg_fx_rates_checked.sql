/* grain: one row per row of the raw fx_rates input, valid or not, with its quarantine reason (null = valid) */
-- depends_on: {{ source('raw', 'fx_rates') }}

with

raw as ({{ raw_source('fx_rates') }}),

cleaned as (
    select
        upper({{ clean_text('currency') }}) as currency,
        {{ clean_text('rate_date') }} as rate_date_text,
        {{ clean_text('rate_to_base') }} as rate_to_base_text,
        {{ raw_columns('fx_rates') }}
    from raw
),

typed as (
    select
        *,
        {{ try_cast_date('rate_date_text') }} as rate_date,
        {{ try_cast_decimal('rate_to_base_text', 18, 8) }} as rate_to_base
    from cleaned
),

duplicate_keys as (
    {{ duplicate_keys('fx_rates', [('currency', 'upper(' ~ clean_text('currency') ~ ')'),
                                   ('rate_date_text', clean_text('rate_date'))]) }}
),

checked as (
    select
        typed.currency,
        typed.rate_date,
        typed.rate_to_base,
        case
            when typed.currency is null or typed.rate_date_text is null then 'null_key'
            when duplicate_keys.currency is not null then 'duplicate_key'
            when typed.rate_to_base_text is null then 'missing_required'
            when typed.rate_date is null then 'invalid_date'
            when typed.rate_to_base is null then 'invalid_amount'
            when typed.rate_to_base <= 0 then 'non_positive_amount'
        end as reason_code,
        concat(coalesce(typed.currency, '<null>'), '@', coalesce(typed.rate_date_text, '<null>')) as record_key,
        {{ raw_columns('fx_rates', 'typed.') }}
    from typed
    left join duplicate_keys
        on typed.currency = duplicate_keys.currency
       and typed.rate_date_text = duplicate_keys.rate_date_text
),

final as (
    select
        currency,
        rate_date,
        rate_to_base,
        reason_code,
        record_key,
        -- the raw row as delivered, kept for quarantined rows only (a valid row is its typed columns)
        case when reason_code is not null then {{ raw_row_text('fx_rates', 'raw__') }} end as raw_row,
        raw__source_load as source_load
    from checked
)

select * from final
