/* grain: one row per customer per observation date (the last var risk_feature_months month ends): features
   known on that date only (windows end at the observation date) and the label: does the customer reach
   var risk_label_dpd+ DPD at a month end within the next var risk_label_months months (null while that window
   is not complete, or when the customer is already there) */


{#- Incremental (macros/restated.sql): a daily run recomputes the customers whose documents or contacts dated up
    to the latest month end or record changed, those int_customer_monthly restated in the same run, and
    everyone when a month end passes (labels of earlier observation dates may complete); the other customers'
    rows stay, less an observation date that left the window (post-hook). -#}
{%- set window_months = var('risk_feature_months') %}
{{ config(**per_customer_incremental(monthly=true, window_months=window_months, upstream='int_customer_monthly', sliced=true, post_hook=[
    "{% if is_incremental() %}delete from {{ this }} where observation_date <= (select cast("
    ~ "{{ dbt.dateadd('month', -" ~ window_months ~ ", 'as_of_date') }} as date) from {{ ref('int_as_of_date') }}){% endif %}"
])) }}

{%- set n = var('risk_label_months') %}

with
{{- restated_cte() }}

as_of as (select as_of_date from {{ ref('int_as_of_date') }}),

monthly as (select * from {{ restated_rows('int_customer_monthly', 'monthly') }}),

customers as (select * from {{ ref('dim_customers') }}{{ only_restated() }}),

windowed as (
    select
        *,
        row_number() over (partition by customer_id order by month_end) as months_on_book,
        {%- for months in [3, 6, 12] %}
        sum(case when days_past_due >= 30 then 1 else 0 end) over w{{ months }} as dpd30_count_{{ months }}m,
        sum(case when days_past_due >= 60 then 1 else 0 end) over w{{ months }} as dpd60_count_{{ months }}m,
        sum(case when days_past_due >= 90 then 1 else 0 end) over w{{ months }} as dpd90_count_{{ months }}m,
        {%- endfor %}
        sum(billed_base) over w3 as billed_3m,
        sum(paid_base) over w3 as paid_3m,
        sum(billed_base) over w6 as billed_6m,
        sum(paid_base) over w6 as paid_6m,
        sum(payment_count) over w3 as payments_3m,
        sum(payment_count) over w6 as payments_6m,
        max(last_payment_date) over (partition by customer_id order by month_end
                                     rows between unbounded preceding and current row) as last_payment_date_to_date,
        lag(outstanding_base, 3) over (partition by customer_id order by month_end) as outstanding_3m_ago,
        max(days_past_due) over w12 as max_dpd_12m,
        sum(contact_count) over w3 as contacts_3m,
        sum(unreached_count) over w3 as unreached_3m,
        sum(refusal_count) over w6 as refusals_6m,
        sum(promise_count) over w6 as promises_6m,
        sum(hardship_count) over w6 as hardships_6m,
        sum(dispute_count) over w6 as disputes_6m,
        -- outcome: the worst DPD at the next N month ends, and how many of those month ends exist yet
        max(days_past_due) over (partition by customer_id order by month_end
                                 rows between 1 following and {{ n }} following) as future_max_dpd,
        count(*) over (partition by customer_id order by month_end
                       rows between 1 following and {{ n }} following) as future_months_known
    from monthly
    window
        w3 as (partition by customer_id order by month_end rows between 2 preceding and current row),
        w6 as (partition by customer_id order by month_end rows between 5 preceding and current row),
        w12 as (partition by customer_id order by month_end rows between 11 preceding and current row)
),

observed as (
    select windowed.*
    from windowed
    cross join as_of
    where windowed.month_end > cast({{ dbt.dateadd('month', '-' ~ window_months, 'as_of.as_of_date') }} as date)
),

final as (
    select
        -- keys
        observed.customer_id,
        observed.month_end as observation_date,
        -- features (f_*): only data dated on or before the observation date
        cast(observed.outstanding_base as {{ dbt.type_float() }}) as f_outstanding_base,
        cast(observed.days_past_due as {{ dbt.type_float() }}) as f_days_past_due,
        {{ safe_divide('observed.outstanding_base', 'customers.credit_limit') }} as f_utilisation,
        {%- for months in [3, 6, 12] %}
        cast(observed.dpd30_count_{{ months }}m as {{ dbt.type_float() }}) as f_dpd30_count_{{ months }}m,
        cast(observed.dpd60_count_{{ months }}m as {{ dbt.type_float() }}) as f_dpd60_count_{{ months }}m,
        cast(observed.dpd90_count_{{ months }}m as {{ dbt.type_float() }}) as f_dpd90_count_{{ months }}m,
        {%- endfor %}
        cast(observed.max_dpd_12m as {{ dbt.type_float() }}) as f_max_dpd_12m,
        {{ safe_divide('observed.paid_3m', 'observed.billed_3m') }} as f_paid_billed_ratio_3m,
        {{ safe_divide('observed.paid_6m', 'observed.billed_6m') }} as f_paid_billed_ratio_6m,
        cast(observed.payments_3m as {{ dbt.type_float() }}) as f_payments_3m,
        cast(observed.payments_6m as {{ dbt.type_float() }}) as f_payments_6m,
        case when observed.last_payment_date_to_date is not null
             then cast({{ days_between('observed.last_payment_date_to_date', 'observed.month_end') }} as {{ dbt.type_float() }})
        end as f_days_since_payment,
        {{ safe_divide('observed.outstanding_base - observed.outstanding_3m_ago', 'observed.outstanding_3m_ago') }}
            as f_balance_trend_3m,
        cast(customers.debt_to_income as {{ dbt.type_float() }}) as f_debt_to_income,
        cast(customers.annual_income as {{ dbt.type_float() }}) as f_annual_income,
        cast(observed.months_on_book as {{ dbt.type_float() }}) as f_months_on_book,
        case when customers.customer_type = 'business' then 1.0 else 0.0 end as f_is_business,
        cast(observed.contacts_3m as {{ dbt.type_float() }}) as f_contacts_3m,
        {{ safe_divide('observed.unreached_3m', 'observed.contacts_3m') }} as f_unreached_share_3m,
        cast(observed.refusals_6m as {{ dbt.type_float() }}) as f_refusals_6m,
        cast(observed.promises_6m as {{ dbt.type_float() }}) as f_promises_6m,
        cast(observed.hardships_6m as {{ dbt.type_float() }}) as f_hardships_6m,
        cast(observed.disputes_6m as {{ dbt.type_float() }}) as f_disputes_6m,
        -- label
        observed.days_past_due >= {{ var('risk_label_dpd') }} as is_already_defaulted,
        case
            when observed.days_past_due >= {{ var('risk_label_dpd') }} then null
            when observed.future_months_known < {{ n }} then null
            when observed.future_max_dpd >= {{ var('risk_label_dpd') }} then 1
            else 0
        end as label
    from observed
    inner join customers on observed.customer_id = customers.customer_id
)

select * from final
