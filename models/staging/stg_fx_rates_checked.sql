/* grain: one row per row of the raw fx_rates input, valid or not, with its quarantine reason (null = valid) */
-- depends_on: {{ source('raw', 'fx_rates') }}

with

raw as ({{ raw_source('fx_rates') }}),

cleaned as (
    select
        upper({{ clean_text('currency') }}) as currency,
        {{ clean_text('rate_date') }} as rate_date_text,
        {{ clean_text('rate_to_base') }} as rate_to_base_text,
        {{ raw_row_text('fx_rates') }} as raw_row
    from raw
),

typed as (
    select
        cleaned.*,
        {{ try_cast_date('rate_date_text') }} as rate_date,
        {{ try_cast_decimal('rate_to_base_text', 18, 8) }} as rate_to_base
    from cleaned
),

key_counts as (
    select currency, rate_date_text, count(*) as key_rows
    from typed
    where currency is not null and rate_date_text is not null
    group by currency, rate_date_text
),

final as (
    select
        typed.currency,
        typed.rate_date,
        typed.rate_to_base,
        case
            when typed.currency is null or typed.rate_date_text is null then 'null_key'
            when key_counts.key_rows > 1 then 'duplicate_key'
            when typed.rate_to_base_text is null then 'missing_required'
            when typed.rate_date is null then 'invalid_date'
            when typed.rate_to_base is null then 'invalid_amount'
            when typed.rate_to_base <= 0 then 'non_positive_amount'
        end as reason_code,
        concat(coalesce(typed.currency, '<null>'), '@', coalesce(typed.rate_date_text, '<null>')) as record_key,
        typed.raw_row
    from typed
    left join key_counts
        on typed.currency = key_counts.currency
       and typed.rate_date_text = key_counts.rate_date_text
)

select * from final
