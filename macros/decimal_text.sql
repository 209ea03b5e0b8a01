{#- A number as plain text with `scale` decimals (rounded half away from zero, the same on every engine), for
    explanations written in words; '-' when the number is null. -#}
{% macro decimal_text(expr, scale=2) -%}
    coalesce(cast(cast(cast({{ expr }} as decimal(38, 9)) as decimal(38, {{ scale }})) as {{ dbt.type_string() }}), '-')
{%- endmacro %}
