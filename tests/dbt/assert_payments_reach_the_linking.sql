{{ config(severity='error') }}
/*
    Every valid payment dated on or before the as-of date is in int_linked_payments, and keeps its amount when it
    is applied in its own currency (once: int_linked_payments' uniqueness test on payment_id). The bridge from
    staging to the allocation that assert_money_conserved_per_customer's sums start from: a payment dropped
    before int_linked_payments is missing from both sides of those sums.
    Per customer, so a daily run checks the customers int_linked_payments restated (restated_test_scope: the
    rows it wrote, and those customers' payments); the other customers' payments and linked rows are those the
    run that wrote them checked. A full refresh, or `--vars '{full_tests: true}'`, checks every payment.
*/

{%- set scope = restated_test_scope(ref('int_linked_payments')) %}

with

as_of as (select as_of_date from {{ ref('int_as_of_date') }}),

linked_payments as (select payment_id, currency, payment_amount from {{ scope.rows }}),

-- void (reversed or bounced) payments are ignored downstream
payments as (
    select payment_id, customer_id, currency, amount, payment_date
    from {{ ref('stg_payments') }}
    where not coalesce(is_void, false) and {{ scope.customers }}
),

-- a valid payment missing from int_linked_payments, or applied in its own currency at another amount. Joined,
-- not grouped per payment (one group per payment was half of the conservation test's time at 100,000 customers)
payment_coverage as (
    select
        payments.payment_id,
        payments.customer_id,
        payments.currency,
        payments.amount,
        linked_payments.payment_id is not null as is_linked,
        linked_payments.payment_amount as same_currency_amount
    from payments
    cross join as_of
    left join linked_payments
        on payments.payment_id = linked_payments.payment_id
    where payments.payment_date <= as_of.as_of_date
      and (linked_payments.payment_id is null or linked_payments.currency = payments.currency)
)

select
    concat('payment ', payment_id, ' not in int_linked_payments, or its amount changed') as failed_check,
    customer_id,
    currency,
    amount as expected_amount,
    same_currency_amount as actual_amount
from payment_coverage
where not is_linked
   or same_currency_amount <> amount
