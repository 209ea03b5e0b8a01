{#- The median of an expression, as an aggregate. -#}
{% macro median_of(expr) %}
    {{ return(adapter.dispatch('median_of', 'arrears')(expr)) }}
{% endmacro %}

{% macro default__median_of(expr) -%}
    median({{ expr }})
{%- endmacro %}

{% macro postgres__median_of(expr) -%}
    percentile_cont(0.5) within group (order by {{ expr }})
{%- endmacro %}

{% macro spark__median_of(expr) -%}
    percentile({{ expr }}, 0.5)
{%- endmacro %}

{#- a / b, null when b is 0 or null. -#}
{% macro safe_divide(numerator, denominator) -%}
    case when {{ denominator }} is null or {{ denominator }} = 0 then null
         else cast({{ numerator }} as {{ dbt.type_float() }}) / {{ denominator }} end
{%- endmacro %}
