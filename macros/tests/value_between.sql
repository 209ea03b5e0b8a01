{#-
    Generic test: every non-null value of the column lies in a range. Either bound may be left out
    (min_value >= 0 for amounts that cannot be negative, 0..100 for scores, 0..1 for shares). Bounds are
    inclusive unless inclusive=false. Nulls pass (declare a not_null constraint where they must not occur).
    A range that is an error wherever it fails is a check constraint instead (column_constraints.sql, one
    query per model); this test is for the other cases, such as a range that only warns.
    Fails with the offending rows.

    data_tests:
      - value_between:
          arguments: {min_value: 0, max_value: 100}
-#}
{% test value_between(model, column_name, min_value=none, max_value=none, inclusive=true) %}

{%- if min_value is none and max_value is none -%}
    {{ exceptions.raise_compiler_error("value_between on " ~ column_name ~ ": give min_value, max_value or both") }}
{%- endif -%}
{%- set lower_op = '<' if inclusive else '<=' -%}
{%- set upper_op = '>' if inclusive else '>=' -%}

select {{ column_name }} as out_of_range_value
from {{ model }}
where {{ column_name }} is not null
  and (
        {%- if min_value is not none %} {{ column_name }} {{ lower_op }} {{ min_value }}{% endif %}
        {%- if min_value is not none and max_value is not none %} or{% endif %}
        {%- if max_value is not none %} {{ column_name }} {{ upper_op }} {{ max_value }}{% endif %}
  )

{% endtest %}
