{{ config(severity='error') }}
/*
    Per invoice, in the document currency, to the cent: amount = paid_amount + outstanding_amount.
    If this fails, fct_invoices reports a paid or unpaid figure that does not add up to what was invoiced (an
    allocation piece missing or counted twice, or a rounding step in the wrong place), and every balance, DPD and
    bucket built on it is off.
*/

select
    invoice_id,
    customer_id,
    currency,
    amount,
    paid_amount,
    outstanding_amount
from {{ ref('fct_invoices') }}
where amount <> paid_amount + outstanding_amount
