{#- Text trimmed of every kind of blank a spreadsheet or export leaves around a value (space, TAB, CR, LF,
    no-break space, ideographic space), with the empty string read as null (the contract: empty field = null). -#}
{% macro clean_text(expr) -%}
    {{ return(adapter.dispatch('clean_text', 'arrears')(expr)) }}
{%- endmacro %}

{% macro default__clean_text(expr) -%}
    nullif(trim(both {{ blank_chars() }} from {{ expr }}), '')
{%- endmacro %}

{#- DuckDB: trim only a value that starts or ends with one of the blanks (its first code point, and the first of
    its reversed text, is one of them); any other value is what trim would return. Trimming a set of characters
    builds a new string for every value: 8 columns of the 31.8 M payments at 1,000,000 customers took 17.4 s that
    way and 8.5 s with this test first (a scan alone: 2.4 s). Same result (tests/pytest/test_clean_text.py). -#}
{% macro duckdb__clean_text(expr) -%}
    case when ascii({{ expr }}) in ({{ blank_codes() }}) or ascii(reverse({{ expr }})) in ({{ blank_codes() }})
         then {{ default__clean_text(expr) }} else nullif({{ expr }}, '') end
{%- endmacro %}

{#- The code points of the blanks (default__blank_chars), for duckdb__clean_text. -#}
{% macro blank_codes() -%}
    32, 9, 10, 13, 160, 12288
{%- endmacro %}

{#- Trimmed, lower-cased code. -#}
{% macro clean_code(expr) -%}
    lower({{ clean_text(expr) }})
{%- endmacro %}

{#- The blank characters clean_text() trims, as one SQL string expression. -#}
{% macro blank_chars() -%}
    {{ return(adapter.dispatch('blank_chars', 'arrears')()) }}
{%- endmacro %}

{% macro default__blank_chars() -%}
    concat(' ', chr(9), chr(10), chr(13), chr(160), chr(12288))
{%- endmacro %}

{#- Spark's chr() takes the code modulo 256: no ideographic space there. -#}
{% macro spark__blank_chars() -%}
    concat(' ', chr(9), chr(10), chr(13), chr(160))
{%- endmacro %}

{#- The raw row as readable text 'col=value | col=value' for the quarantine (kept exactly as delivered), from
    the raw columns carried as <prefix><col> (see raw_columns). -#}
{% macro raw_row_text(table_name, prefix='') -%}
    concat_ws(' | '
    {%- for col in contract_columns(table_name) %},
        concat('{{ col }}=', coalesce({{ prefix }}{{ col }}, '<null>'))
    {%- endfor %},
        {#- the load a row came in (contract v2 loads, arrears/loads.py); null for a full extract, which
            concat_ws skips, so a full extract's raw row reads as before -#}
        case when {{ prefix }}source_load is not null then concat('source_load=', {{ prefix }}source_load) end
    )
{%- endmacro %}

{#- The raw columns of a contract table carried along as raw__<col> (for the quarantine's raw row): from the raw
    source `col as raw__col`, or, given a relation alias, `alias.raw__col`. -#}
{% macro raw_columns(table_name, relation_alias=none) -%}
    {%- for col in contract_columns(table_name) + ['source_load'] -%}
        {%- if relation_alias is none -%}{{ col }} as raw__{{ col }}{%- else -%}{{ relation_alias }}raw__{{ col }}{%- endif -%}
        {{ ",\n        " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{#- Integers 0 .. 10^digits - 1, portable (no generate_series): for calendars. Used as
    `select {{ integers_value(n) }} as x from {{ integers(n) }}`. -#}
{% macro integers(digits) -%}
    {{ return(adapter.dispatch('integers', 'arrears')(digits)) }}
{%- endmacro %}

{% macro integers_value(digits) -%}
    {{ return(adapter.dispatch('integers_value', 'arrears')(digits)) }}
{%- endmacro %}

{#- Spark: one range() scan instead of a cross join of digit tables (fewer, cheaper stages). -#}
{% macro spark__integers(digits) -%}
    (select cast(id as int) as d from range({{ 10 ** digits }})) as p0
{%- endmacro %}

{% macro spark__integers_value(digits) -%}
    p0.d
{%- endmacro %}

{% macro default__integers(digits) -%}
    {%- for i in range(digits) %}
    {{ 'cross join' if not loop.first }} (
        select 0 as d union all select 1 union all select 2 union all select 3 union all select 4
        union all select 5 union all select 6 union all select 7 union all select 8 union all select 9
    ) as p{{ i }}
    {%- endfor %}
{%- endmacro %}

{% macro default__integers_value(digits) -%}
    ({%- for i in range(digits) %}{{ ' + ' if not loop.first }}p{{ i }}.d * {{ 10 ** i }}{% endfor -%})
{%- endmacro %}
