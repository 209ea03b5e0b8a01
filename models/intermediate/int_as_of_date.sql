/* grain: exactly one row: the as-of date every as-of figure stands on
   (var as_of_date, else the latest valid invoice or payment date, which is never after the run date because
   staging sets later rows aside as future_date), with the run date and how the as-of date was chosen */

with

invoices as (select * from {{ ref('stg_invoices') }}),

-- void (reversed or bounced) payments are ignored downstream
payments as (select * from {{ ref('stg_payments') }} where not coalesce(is_void, false)),

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
        -- no valid document at all: the run date, so every as-of figure still has a day to stand on
        coalesce(latest_event_date, {{ run_date_sql() }}) as as_of_date,
        {%- endif %}
        latest_event_date,
        {{ run_date_sql() }} as run_date,
        '{{ "requested" if var("as_of_date", none) else "latest_document" }}' as as_of_source
    from latest
)

select * from final
