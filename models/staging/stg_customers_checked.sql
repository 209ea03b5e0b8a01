/* grain: one row per row of the raw customers input, valid or not, with its quarantine reason (null = valid) */
-- depends_on: {{ source('raw', 'customers') }}

with

raw as ({{ raw_source('customers') }}),

cleaned as (
    select
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_text('customer_name') }} as customer_name,
        {{ clean_code('customer_type') }} as customer_type,
        {{ clean_text('region') }} as region,
        {{ clean_text('phone') }} as phone,
        {{ clean_text('email') }} as email,
        {{ clean_text('contact_person') }} as contact_person,
        {{ clean_text('account_manager') }} as account_manager,
        {{ clean_text('credit_limit') }} as credit_limit_text,
        {{ clean_text('annual_income') }} as annual_income_text,
        {{ clean_text('total_debt') }} as total_debt_text,
        {{ clean_text('is_key_account') }} as is_key_account_text,
        {{ clean_text('created_date') }} as created_date_text,
        {{ raw_columns('customers') }}
    from raw
),

typed as (
    select
        *,
        {{ try_cast_decimal('credit_limit_text') }} as credit_limit,
        {{ try_cast_decimal('annual_income_text') }} as annual_income,
        {{ try_cast_decimal('total_debt_text') }} as total_debt,
        {{ try_cast_boolean('is_key_account_text') }} as is_key_account,
        {{ try_cast_date('created_date_text') }} as created_date
    from cleaned
),

-- keys delivered more than once: every row of such a key is set aside
duplicate_keys as (
    {{ duplicate_keys('customers') }}
),

checked as (
    select
        typed.customer_id,
        typed.customer_name,
        typed.customer_type,
        typed.region,
        typed.phone,
        typed.email,
        typed.contact_person,
        typed.account_manager,
        typed.credit_limit,
        typed.annual_income,
        typed.total_debt,
        coalesce(typed.is_key_account, false) as is_key_account,
        typed.created_date,
        case
            when typed.customer_id is null then 'null_key'
            when duplicate_keys.customer_id is not null then 'duplicate_key'
            when typed.customer_name is null then 'missing_required'
            when typed.created_date_text is not null and typed.created_date is null then 'invalid_date'
            when (typed.credit_limit_text is not null and typed.credit_limit is null)
              or (typed.annual_income_text is not null and typed.annual_income is null)
              or (typed.total_debt_text is not null and typed.total_debt is null) then 'invalid_amount'
            when typed.credit_limit < 0 or typed.annual_income < 0 or typed.total_debt < 0 then 'negative_value'
            when typed.is_key_account_text is not null and typed.is_key_account is null then 'invalid_boolean'
            when typed.customer_type is not null
             and typed.customer_type not in ({{ sql_list(contract_codes('customer_type')) }}) then 'invalid_code'
        end as reason_code,
        {{ beyond_cents([('credit_limit', 'typed.credit_limit_text', 'typed.credit_limit'), ('annual_income', 'typed.annual_income_text', 'typed.annual_income'), ('total_debt', 'typed.total_debt_text', 'typed.total_debt')]) }} as beyond_cents,
        {{ raw_columns('customers', 'typed.') }}
    from typed
    left join duplicate_keys on typed.customer_id = duplicate_keys.customer_id
),

final as (
    select
        customer_id,
        customer_name,
        customer_type,
        region,
        phone,
        email,
        contact_person,
        account_manager,
        credit_limit,
        annual_income,
        total_debt,
        is_key_account,
        created_date,
        reason_code,
        -- the raw row as delivered, kept for quarantined rows only (a valid row is its typed columns)
        case when reason_code is not null then {{ raw_row_text('customers', 'raw__') }} end as raw_row,
        -- money delivered with more than two decimals, rounded to the cent (warn_amounts_beyond_two_decimals)
        beyond_cents,
        raw__source_load as source_load
    from checked
)

select * from final
