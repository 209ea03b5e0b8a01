{#-
    Champion/challenger assignment and the statistics of mart_strategy_effectiveness and mart_strategy_tests.
    Every function here is plain arithmetic on every engine (no erf, no random()), so the same rows give the
    same figures on DuckDB, PostgreSQL and Spark, run after run.
-#}

{#- A number in [0, 1) from the first 32 bits of md5(text): the same for the same text on every run and
    engine. Python: int(hashlib.md5(text.encode()).hexdigest()[:8], 16) / 2**32 (arrears/experiments.py). -#}
{% macro stable_unit_interval(text_expr) %}
    {{ return(adapter.dispatch('stable_unit_interval', 'arrears')(text_expr)) }}
{% endmacro %}

{% macro default__stable_unit_interval(text_expr) -%}
    (cast(cast(('0x' || substr(md5({{ text_expr }}), 1, 8)) as bigint) as {{ dbt.type_float() }}) / 4294967296.0)
{%- endmacro %}

{% macro postgres__stable_unit_interval(text_expr) -%}
    (cast(cast(('x' || substr(md5({{ text_expr }}), 1, 8)) as bit(32)) as bigint) / 4294967296.0)
{%- endmacro %}

{% macro spark__stable_unit_interval(text_expr) -%}
    (cast(cast(conv(substr(md5({{ text_expr }}), 1, 8), 16, 10) as bigint) as double) / 4294967296.0)
{%- endmacro %}

{#- The arm of a customer in a test: challenger when the customer's stable number for the test falls under
    the challenger's share. Depends only on the test id and the customer id. -#}
{% macro test_arm(test_id, customer_id, challenger_share) -%}
    case when {{ stable_unit_interval(test_id ~ " || '|' || " ~ customer_id) }} < {{ challenger_share }}
         then 'challenger' else 'champion' end
{%- endmacro %}

{#- Wilson score interval of a proportion (successes of trials), lower or upper bound, 4 decimals; null
    without trials. z = 1.959964 (95%). -#}
{% macro wilson_bound(successes, trials, side, z=1.959964) -%}
    {%- set n = 'cast(' ~ trials ~ ' as ' ~ dbt.type_float() ~ ')' -%}
    {%- set p = '(cast(' ~ successes ~ ' as ' ~ dbt.type_float() ~ ') / ' ~ n ~ ')' -%}
    {%- set zz = z * z -%}
    {%- set sign = '-' if side == 'lower' else '+' -%}
    case when {{ trials }} > 0 then {{ round_float(
        'greatest(0.0, least(1.0, (' ~ p ~ ' + ' ~ zz ~ ' / (2 * ' ~ n ~ ') ' ~ sign ~ ' ' ~ z ~ ' * sqrt(greatest(0.0, '
        ~ p ~ ' * (1 - ' ~ p ~ ') / ' ~ n ~ ' + ' ~ zz ~ ' / (4 * ' ~ n ~ ' * ' ~ n ~ ')))) / (1 + ' ~ zz ~ ' / ' ~ n ~ ')))', 4) }} end
{%- endmacro %}

{#- Standard normal CDF Phi(x), Abramowitz and Stegun 26.2.17 (absolute error under 7.5e-8): engines have no
    erf in common. -#}
{% macro normal_cdf(x) -%}
    {%- set ax = 'abs(' ~ x ~ ')' -%}
    {%- set t = '(1.0 / (1.0 + 0.2316419 * ' ~ ax ~ '))' -%}
    {%- set tail = '(0.3989422804014327 * exp(-0.5 * ' ~ ax ~ ' * ' ~ ax ~ ') * ' ~ t ~ ' * (0.319381530 + ' ~ t
        ~ ' * (-0.356563782 + ' ~ t ~ ' * (1.781477937 + ' ~ t ~ ' * (-1.821255978 + ' ~ t ~ ' * 1.330274429)))))' -%}
    (case when {{ x }} >= 0 then 1.0 - {{ tail }} else {{ tail }} end)
{%- endmacro %}

{#- Poisson(1) weight of a row in bootstrap replicate `replicate`, from the stable number of (key, replicate):
    the inverse CDF of Poisson(1) at that number. A Poisson bootstrap resamples each row independently, so a
    replicate is a group-by, reproducible on every engine. -#}
{% macro poisson_bootstrap_weight(key_expr, replicate_expr) -%}
    {%- set u = stable_unit_interval("cast(" ~ key_expr ~ " as " ~ dbt.type_string() ~ ") || '#' || cast("
        ~ replicate_expr ~ " as " ~ dbt.type_string() ~ ")") -%}
    case
        when {{ u }} < 0.36787944117144233 then 0
        when {{ u }} < 0.7357588823428847 then 1
        when {{ u }} < 0.9196986029286058 then 2
        when {{ u }} < 0.9810118431238462 then 3
        when {{ u }} < 0.9963401531726563 then 4
        when {{ u }} < 0.9994058151824183 then 5
        when {{ u }} < 0.9999167588507119 then 6
        else 7
    end
{%- endmacro %}

{#- The integers 1..n as a relation (column `replicate`), portable: digits cross joined. n <= 1000. -#}
{% macro replicate_numbers(n) -%}
    select replicate from (
        select ones.d + 10 * tens.d + 100 * hundreds.d + 1 as replicate
        from ({% for d in range(10) %}select {{ d }} as d{% if not loop.last %} union all {% endif %}{% endfor %}) as ones
        cross join ({% for d in range(10) %}select {{ d }} as d{% if not loop.last %} union all {% endif %}{% endfor %}) as tens
        cross join ({% for d in range(10) %}select {{ d }} as d{% if not loop.last %} union all {% endif %}{% endfor %}) as hundreds
    ) as numbers
    where replicate <= {{ n }}
{%- endmacro %}

{#- A quantile (0..1) of an expression, interpolated, as an aggregate. -#}
{% macro quantile_of(expr, q) %}
    {{ return(adapter.dispatch('quantile_of', 'arrears')(expr, q)) }}
{% endmacro %}

{% macro default__quantile_of(expr, q) -%}
    quantile_cont({{ expr }}, {{ q }})
{%- endmacro %}

{% macro postgres__quantile_of(expr, q) -%}
    percentile_cont({{ q }}) within group (order by {{ expr }})
{%- endmacro %}

{% macro spark__quantile_of(expr, q) -%}
    percentile({{ expr }}, {{ q }})
{%- endmacro %}
