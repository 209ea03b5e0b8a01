{#- The rate that converts an amount in `currency_expr` to the base currency (var base_currency): 1 for the base
    currency itself, else `rate_expr` (a rate_to_base joined from stg_fx_rates_daily on currency and day). -#}
{% macro rate_to_base(currency_expr, rate_expr) -%}
    case when {{ currency_expr }} = '{{ var("base_currency") }}' then 1 else {{ rate_expr }} end
{%- endmacro %}

{#- An amount in `currency_expr` converted to the base currency, rounded half up to the cent. An amount in the
    base currency is only rounded: multiplying it by 1 gives the same value, but a 38-digit decimal times a rate
    is 128-bit arithmetic for every row (20 M invoice amounts, 94% in the base currency: 5.6 s that way, 0.5 s
    this way, DuckDB, 2 threads). -#}
{% macro amount_to_base(amount_expr, currency_expr, rate_expr) -%}
    case when {{ currency_expr }} = '{{ var("base_currency") }}'
         then cast(round({{ amount_expr }}, 2) as {{ money_type() }})
         else cast(round({{ amount_expr }} * {{ rate_expr }}, 2) as {{ money_type() }}) end
{%- endmacro %}
