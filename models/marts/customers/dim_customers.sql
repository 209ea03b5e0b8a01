/* grain: one row per valid customer: attributes, financial standing and importance as of the as-of date */

with

as_of as (select as_of_date from {{ ref('int_as_of_date') }}),

customers as (select * from {{ ref('stg_customers') }}),

invoices as (select * from {{ ref('fct_invoices') }}),

billed_last_year as (
    select
        invoices.customer_id,
        sum(invoices.amount_base) as billed_12m_base
    from invoices
    cross join as_of
    where invoices.invoice_date > cast({{ dbt.dateadd('day', '-365', 'as_of.as_of_date') }} as date)
    group by invoices.customer_id
),

company as (
    select sum(billed_12m_base) as company_billed_12m_base from billed_last_year
),

final as (
    select
        -- keys
        customers.customer_id,
        -- attributes (PII: name, phone, email, contact person)
        customers.customer_name,
        customers.customer_type,
        customers.region,
        customers.phone,
        customers.email,
        customers.contact_person,
        customers.account_manager,
        customers.created_date,
        -- financial standing
        customers.credit_limit,
        customers.annual_income,
        customers.total_debt,
        case when customers.annual_income > 0
             then cast({{ divide_round('coalesce(customers.total_debt, 0)', 'customers.annual_income', 4) }} as decimal(24, 4))
        end as debt_to_income,
        -- importance
        customers.is_key_account,
        cast(coalesce(billed_last_year.billed_12m_base, 0) as {{ money_type() }}) as billed_12m_base,
        {{ safe_divide('coalesce(billed_last_year.billed_12m_base, 0)', 'company.company_billed_12m_base') }}
            as revenue_share_12m,
        case when customers.created_date is not null
             then {{ dbt.datediff('customers.created_date', 'as_of.as_of_date', 'month') }} end as tenure_months,
        as_of.as_of_date
    from customers
    cross join as_of
    cross join company
    left join billed_last_year on customers.customer_id = billed_last_year.customer_id
)

select * from final
