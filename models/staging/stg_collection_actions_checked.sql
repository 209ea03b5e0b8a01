/* grain: one row per row of the raw collection_actions input (the contact log), valid or not, with its
   quarantine reason (null = valid); empty when the optional table is absent */
-- depends_on: {{ source('raw', 'collection_actions') }}
{{ config(**staging_incremental('collection_actions')) }}

with

-- on a daily run of loads, only the rows it restates (macros/staging_delta.sql)
{%- set staged = staged_raw('collection_actions') %}
raw as ({{ staged }}),

{{ staging_lookup_ctes('collection_actions') }},

cleaned as (
    select
        {{ clean_text('action_id') }} as action_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_text('action_date') }} as action_date_text,
        {{ clean_code('channel') }} as channel,
        {{ clean_code('outcome') }} as outcome,
        {{ clean_code('hardship_reason') }} as hardship_reason,
        {{ clean_text('promised_amount') }} as promised_amount_text,
        {{ clean_text('promised_date') }} as promised_date_text,
        {{ raw_columns('collection_actions') }},
        load_generation
    from raw
),

typed as (
    select
        *,
        {{ try_cast_date('action_date_text') }} as action_date,
        {{ try_cast_decimal('promised_amount_text') }} as promised_amount,
        {{ try_cast_date('promised_date_text') }} as promised_date
    from cleaned
),

-- keys delivered more than once: every row of such a key is set aside
duplicate_keys as (
    {{ duplicate_keys('collection_actions', rows=staged) }}
),

checked as (
    select
        typed.action_id,
        typed.customer_id,
        typed.action_date,
        typed.channel,
        typed.outcome,
        typed.hardship_reason,
        typed.promised_amount,
        typed.promised_date,
        case
            when typed.action_id is null then 'null_key'
            when duplicate_keys.action_id is not null then 'duplicate_key'
            when typed.customer_id is null or typed.action_date_text is null
              or typed.channel is null or typed.outcome is null then 'missing_required'
            when typed.action_date is null
              or (typed.promised_date_text is not null and typed.promised_date is null) then 'invalid_date'
            when typed.action_date > {{ document_cutoff_sql() }} then 'future_date'
            when typed.promised_amount_text is not null and typed.promised_amount is null then 'invalid_amount'
            when typed.promised_amount < 0 then 'negative_value'
            when customers.customer_id is null then 'unknown_customer'
            when typed.channel not in ({{ sql_list(contract_codes('channel')) }}) then 'unknown_channel'
            when typed.outcome not in ({{ sql_list(contract_codes('outcome')) }})
              or (typed.hardship_reason is not null
                  and typed.hardship_reason not in ({{ sql_list(contract_codes('hardship_reason')) }})) then 'unknown_outcome'
        end as reason_code,
        {{ staging_reference_state('collection_actions', 'typed') }} as reference_state,
        typed.load_generation,
        {{ beyond_cents([('promised_amount', 'typed.promised_amount_text', 'typed.promised_amount')]) }} as beyond_cents,
        {{ raw_columns('collection_actions', 'typed.') }}
    from typed
    left join duplicate_keys on typed.action_id = duplicate_keys.action_id
    {{ staging_lookup_joins('collection_actions', 'typed') }}
),

final as (
    select
        action_id,
        customer_id,
        action_date,
        channel,
        outcome,
        hardship_reason,
        promised_amount,
        promised_date,
        reason_code,
        -- the raw row as delivered, kept for quarantined rows only (a valid row is its typed columns)
        case when reason_code is not null then {{ raw_row_text('collection_actions', 'raw__') }} end as raw_row,
        -- money delivered with more than two decimals, rounded to the cent (warn_amounts_beyond_two_decimals)
        beyond_cents,
        raw__source_load as source_load,
        -- what incremental staging compares on a daily run (macros/staging_delta.sql)
        reference_state,
        load_generation,
        '{{ staging_rules_version('collection_actions') }}' as rules_version
    from checked
)

select * from final
