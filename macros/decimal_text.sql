{#- A number as plain text with `scale` decimals (rounded half away from zero, the same on every engine), for
    explanations written in words; '-' when the number is null. -#}
{% macro decimal_text(expr, scale=2) -%}
    coalesce(cast(cast(cast({{ expr }} as decimal(38, 9)) as decimal(38, {{ scale }})) as {{ dbt.type_string() }}), '-')
{%- endmacro %}

{#- Money values delivered with more than two decimals (100.005, 1.0001), as 'column=value as delivered' joined
    by ' | ', null when none. Staging keeps money to the cent, so these are rounded; the warn test
    warn_amounts_beyond_two_decimals names every such row. Computed in staging, where each row is read once
    (on a daily run of loads only the new rows): the test reads this column instead of the raw files again.
    `columns`: [(name, text expression, value kept to the cent), ...]; trailing zeros (1.500) are exact. -#}
{% macro beyond_cents(columns) -%}
    nullif(concat_ws(' | '
    {%- for name, text_expr, value_expr in columns %},
        case when {{ text_expr }} is not null
              and {{ try_cast_decimal(text_expr, 38, 9) }} <> {{ value_expr }}
             then concat('{{ name }}=', {{ text_expr }}) end
    {%- endfor %}), '')
{%- endmacro %}
