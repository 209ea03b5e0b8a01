{#-
    The overdue-type rules are data: seeds/classification_weights.csv lists, per type, the evidence flags
    (columns ev_<code> of int_overdue_evidence) and their weights. A type's score is the weighted share of its
    evidence present among its evidence that could be observed, 0-100: evidence with evidence_source
    `contact_log` counts (in numerator and denominator) only where has_contact_history is true, so a company without
    a contact log, or a customer nobody has contacted yet, is typed by payment behaviour and finances alone.
    The seed is read at compile time and turned into SQL.
-#}
{% macro classification_rows() %}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set result = run_query(
        "select overdue_type, evidence_code, weight, reason_en, reason_zh, evidence_source from "
        ~ ref('classification_weights') ~ " order by overdue_type, weight desc, evidence_code") -%}
    {%- set rows = [] -%}
    {%- for r in result.rows -%}
        {%- do rows.append({'type': r[0], 'code': r[1], 'weight': r[2] | float, 'en': r[3], 'zh': r[4],
                            'source': r[5]}) -%}
    {%- endfor -%}
    {{ return(rows) }}
{% endmacro %}

{#- 0-100 score of one type: weighted share of its observable evidence flags that are true (rows of a unit-test
    override without a `source` key count as payment evidence). -#}
{% macro overdue_type_score(overdue_type, observed_column='has_contact_history') -%}
    {%- set rows = classification_rows() | selectattr('type', 'equalto', overdue_type) | list -%}
    {%- set contact = rows | selectattr('source', 'defined') | selectattr('source', 'equalto', 'contact_log') | list -%}
    {%- set total = rows | sum(attribute='weight') -%}
    {%- set contact_total = contact | sum(attribute='weight') -%}
    {%- if total == 0 -%}cast(0 as {{ dbt.type_float() }}){%- else -%}
    {%- set weighted -%}
    coalesce(100.0 * (
        {%- for r in rows %}
        {{ ' + ' if not loop.first }}case when {% if r in contact %}coalesce({{ observed_column }}, false) and {% endif -%}
        coalesce(ev_{{ r['code'] }}, false) then {{ r['weight'] }} else 0 end
        {%- endfor %}
    ) / nullif({{ total - contact_total }}
        {%- if contact_total > 0 %} + case when coalesce({{ observed_column }}, false) then {{ contact_total }} else 0 end{% endif %}, 0), 0)
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

{#- The day a promise to pay (a contact row `actions_alias`) must be kept by: its promised date plus var
    promise_grace_days, or var promise_keep_days after the call when it names no date. -#}
{% macro promise_keep_by_date(actions_alias) -%}
    cast(coalesce({{ dbt.dateadd('day', var('promise_grace_days'), actions_alias ~ '.promised_date') }},
                  {{ dbt.dateadd('day', var('promise_keep_days'), actions_alias ~ '.action_date') }}) as date)
{%- endmacro %}

{#- Whether a promise was kept: paid (base currency) at least var promise_kept_share of the promised amount (a
    promise without an amount counts as 0.01). Null when `paid` is null. -#}
{% macro promise_is_kept(paid, promised) -%}
    {{ paid }} >= coalesce({{ promised }}, 0.01) * {{ var('promise_kept_share') }}
{%- endmacro %}
