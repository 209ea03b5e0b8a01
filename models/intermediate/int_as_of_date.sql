/* grain: exactly one row: the as-of date every as-of figure stands on
   (var as_of_date, else the latest invoice or payment date in the valid data) */

with

invoices as (select * from {{ ref('stg_invoices') }}),

payments as (select * from {{ ref('stg_payments') }}),

latest as (
    select max(event_date) as latest_event_date
    from (
        select max(invoice_date) as event_date from invoices
        union all
        select max(payment_date) as event_date from payments
    ) as dates
),

final as (
    select
        {%- if var('as_of_date', none) %}
        cast('{{ var("as_of_date") }}' as date) as as_of_date,
        {%- else %}
        latest_event_date as as_of_date,
        {%- endif %}
        latest_event_date
    from latest
)

select * from final
