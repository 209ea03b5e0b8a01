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

{#- a / b, null when b is 0 or null. The denominator is parenthesised: 'a + b - c' divides by the whole sum. -#}
{% macro safe_divide(numerator, denominator) -%}
    case when ({{ denominator }}) is null or ({{ denominator }}) = 0 then null
         else cast({{ numerator }} as {{ dbt.type_float() }}) / ({{ denominator }}) end
{%- endmacro %}

{#-
    A float rounded half away from zero to `digits` decimals, as a float, the same on every engine.
    round(double, n) does not exist on PostgreSQL, and engines round a double's binary value differently
    (0.15 is 0.1499999...): the value goes through decimal(38, 9) first, which also drops the last-bit noise
    that ln() or a division may leave differently on each engine, then rounds as a decimal (half away from zero
    on DuckDB, PostgreSQL and Spark).
-#}
{% macro round_float(expr, digits) -%}
    cast(round(cast({{ expr }} as decimal(38, 9)), {{ digits }}) as {{ dbt.type_float() }})
{%- endmacro %}

{#-
    numerator / denominator (decimals) rounded half away from zero to `scale` decimals, as decimal(38, scale),
    exactly, on every engine. DuckDB divides decimals in double precision, so round() of the quotient can land
    on the wrong side of a half (12345.00 / 100000.00 = 0.12345 -> 0.1234); PostgreSQL and Spark keep 6 to 16
    digits and round twice. The quotient rounded by the engine is off by at most one unit; exact decimal
    products (no division) tell whether to move it, as int_linked_payments does for FX. The caller keeps the
    denominator away from zero.
-#}
{% macro divide_round(numerator, denominator, scale) -%}
    {%- set unit = '0.' ~ '0' * (scale - 1) ~ '1' -%}
    {%- set half = '0.' ~ '0' * scale ~ '5' -%}
    {%- set n = 'abs(' ~ numerator ~ ')' -%}
    {%- set d = 'abs(' ~ denominator ~ ')' -%}
    {%- set rough = 'cast(round(' ~ n ~ ' / ' ~ d ~ ', ' ~ scale ~ ') as decimal(38, ' ~ scale ~ '))' -%}
    cast(
        case when ({{ numerator }} < 0) <> ({{ denominator }} < 0) then -1 else 1 end
        * case
            when {{ n }} >= ({{ rough }} + {{ half }}) * {{ d }} then {{ rough }} + {{ unit }}
            when {{ n }} < ({{ rough }} - {{ half }}) * {{ d }} then {{ rough }} - {{ unit }}
            else {{ rough }}
        end
    as decimal(38, {{ scale }}))
{%- endmacro %}
