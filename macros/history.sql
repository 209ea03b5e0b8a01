{#-
    The customers whose history an incremental run of fct_customer_aging_history recomputes in full: those
    with an invoice, credit note or payment dated between the previous as-of date (the latest snapshot
    stored in `history`) and this run's as-of date, in either direction (a backfill moves the as-of date back).
    Their payment allocation, and so every snapshot of theirs, may differ from what the previous run stored.
-#}
{% macro history_restated_customers(history) -%}
    select documents.customer_id
    from (
        select customer_id, invoice_date as document_date from {{ ref('stg_invoices') }}
        union all
        select customer_id, payment_date as document_date from {{ ref('stg_payments') }}
    ) as documents
    cross join (select max(snapshot_date) as previous_as_of from {{ history }}) as previous_run
    cross join {{ ref('int_as_of_date') }} as as_of
    where (documents.document_date > previous_run.previous_as_of and documents.document_date <= as_of.as_of_date)
       or (documents.document_date > as_of.as_of_date and documents.document_date <= previous_run.previous_as_of)
{%- endmacro %}
