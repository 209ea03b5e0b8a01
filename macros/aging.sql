{#-
    Aging buckets come from the seed aging_buckets (bucket_order, bucket_code, min/max days past due;
    an empty max means open-ended), so a user switches convention by editing the seed, not SQL.
    The seed is read at compile time and turned into a CASE expression (portable and fast).
-#}
{% macro aging_bucket_rows() %}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set result = run_query(
        "select bucket_order, bucket_code, min_days_past_due, max_days_past_due from "
        ~ ref('aging_buckets') ~ " order by bucket_order") -%}
    {%- set rows = [] -%}
    {%- for r in result.rows -%}
        {%- do rows.append({'order': r[0] | int, 'code': r[1], 'min': r[2] | int,
                            'max': (none if r[3] is none else r[3] | int)}) -%}
    {%- endfor -%}
    {{ return(rows) }}
{% endmacro %}

{#- The sum of a row's bucket columns (bucket_<code>_base, one per seed row), as SQL; 0 when the seed is empty. -#}
{% macro bucket_total() -%}
    {%- set columns = [] -%}
    {%- for b in aging_bucket_rows() %}{% do columns.append('bucket_' ~ b['code'] ~ '_base') %}{% endfor -%}
    {{ return(columns | join(' + ') if columns else '0') }}
{%- endmacro %}

{#- The bucket code of a days-past-due expression. -#}
{% macro aging_bucket(dpd_expr) -%}
    case
    {%- for b in aging_bucket_rows() %}
        when {{ dpd_expr }} >= {{ b['min'] }}{% if b['max'] is not none %} and {{ dpd_expr }} <= {{ b['max'] }}{% endif %} then '{{ b["code"] }}'
    {%- endfor %}
    end
{%- endmacro %}

{#- The bucket's order number (0 = not due), for transitions and "worsened / improved" comparisons. -#}
{% macro aging_bucket_order(dpd_expr) -%}
    case
    {%- for b in aging_bucket_rows() %}
        when {{ dpd_expr }} >= {{ b['min'] }}{% if b['max'] is not none %} and {{ dpd_expr }} <= {{ b['max'] }}{% endif %} then {{ b['order'] }}
    {%- endfor %}
    end
{%- endmacro %}

{#- Days past due of an invoice at a date: date minus due date while anything is unpaid, else 0. A bigint on
    every engine (date differences are bigint on DuckDB but integer on PostgreSQL and Spark). -#}
{% macro days_past_due(due_date, at_date, outstanding) -%}
    cast(case
        when {{ outstanding }} > 0 and {{ at_date }} > {{ due_date }}
        then {{ days_between(due_date, at_date) }}
        else 0
    end as {{ dbt.type_bigint() }})
{%- endmacro %}
