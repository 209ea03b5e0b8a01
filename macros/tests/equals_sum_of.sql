{#-
    Generic test: on every row, the column equals the sum of other columns (money to the cent: an invoice's
    amount is what was paid plus what is unpaid). Fails with the rows where it does not. A row-level check, so on
    a per-customer incremental model it reads what the run wrote (macros/tests/scoped_tests.sql). A null on
    either side passes (guard those columns with a not_null constraint, as the money columns are).

    columns:
      - name: amount
        data_tests:
          - equals_sum_of:
              arguments: {parts: [paid_amount, outstanding_amount]}
-#}
{% test equals_sum_of(model, column_name, parts) %}

{%- if parts | length == 0 -%}
    {{ exceptions.raise_compiler_error("equals_sum_of on " ~ column_name ~ ": give the parts") }}
{%- endif %}

select {{ column_name }} as expected_amount, {{ parts | join(' + ') }} as sum_of_parts
from {{ model }}
where {{ column_name }} <> {{ parts | join(' + ') }}

{% endtest %}
