{#-
    Which documents count as of the as-of date, written once.

    posted_as_of(kind): a posted (not void) document of that kind issued on or before the as-of date.
      kind 'invoice'     -> a payable invoice: payments and credit can be allocated to it;
      kind 'credit_note' -> a credit note: credit for its customer from its document date.
    `invoices` and `as_of` are the aliases of stg_invoices and int_as_of_date in the calling query.
-#}
{% macro posted_as_of(kind, invoices='invoices', as_of='as_of') -%}
    {%- if kind not in ('invoice', 'credit_note') -%}
        {{ exceptions.raise_compiler_error("posted_as_of: kind must be 'invoice' or 'credit_note', got " ~ kind) }}
    {%- endif -%}
    not {{ invoices }}.is_void
      and {{ 'not ' if kind == 'invoice' }}{{ invoices }}.is_credit_note
      and {{ invoices }}.invoice_date <= {{ as_of }}.as_of_date
{%- endmacro %}
