{#-
    The overdue-type rules are data: seeds/classification_weights.csv lists, per type, the evidence flags
    (columns ev_<code> of int_overdue_evidence) and their weights. A type's score is the weighted share of its
    evidence present, 0-100. The seed is read at compile time and turned into SQL.
-#}
{% macro classification_rows() %}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set result = run_query(
        "select overdue_type, evidence_code, weight, reason_en, reason_zh from " ~ ref('classification_weights')
        ~ " order by overdue_type, weight desc, evidence_code") -%}
    {%- set rows = [] -%}
    {%- for r in result.rows -%}
        {%- do rows.append({'type': r[0], 'code': r[1], 'weight': r[2] | float, 'en': r[3], 'zh': r[4]}) -%}
    {%- endfor -%}
    {{ return(rows) }}
{% endmacro %}

{#- 0-100 score of one type: weighted share of its evidence flags that are true. -#}
{% macro overdue_type_score(overdue_type) -%}
    {%- set rows = classification_rows() | selectattr('type', 'equalto', overdue_type) | list -%}
    {%- set total = rows | sum(attribute='weight') -%}
    {%- if total == 0 -%}cast(0 as {{ dbt.type_float() }}){%- else -%}
    {%- set weighted -%}
    100.0 * (
        {%- for r in rows %}
        {{ ' + ' if not loop.first }}case when ev_{{ r['code'] }} then {{ r['weight'] }} else 0 end
        {%- endfor %}
    ) / {{ total }}
    {%- endset %}
    {{ round_float(weighted, 1) }}
    {%- endif -%}
{%- endmacro %}

{#- The reasons (codes, or English / Chinese text) of one type whose evidence is present, heaviest first. -#}
{% macro overdue_type_reasons(overdue_type, field='code', separator='; ') -%}
    {%- set rows = classification_rows() | selectattr('type', 'equalto', overdue_type) | list -%}
    {%- if rows | length == 0 -%}cast(null as {{ dbt.type_string() }}){%- else -%}
    concat_ws('{{ separator }}'
    {%- for r in rows %},
        case when ev_{{ r['code'] }} then '{{ r[field] | replace("'", "''") }}' end
    {%- endfor %}
    )
    {%- endif -%}
{%- endmacro %}
