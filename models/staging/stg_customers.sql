/* grain: one row per valid customer (customer_id unique) */
{{ config(materialized='view') }}

with

checked as (select * from {{ ref('stg_customers_checked') }}),

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
        created_date
    from checked
    where {{ staged_valid_rows() }}
)

select * from final
