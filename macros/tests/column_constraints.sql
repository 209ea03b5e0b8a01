{#-
    Every column constraint declared on a model (or seed) holds: `not_null` (no null in the column) and `check`
    (no row where the expression is false; a null passes, as in SQL), all in one scan of the model instead of
    one dbt test per column and rule (issue 15: about 630 such nodes, most of the tests of a daily run).

        columns:
          - name: amount_base
            constraints: [{type: not_null}, {type: check, expression: "amount_base >= 0"}]

    The rules are read from the model's YAML, so they stay next to the column they guard. A model with an
    enforced contract also gets them in its DDL on engines that enforce them (DuckDB, PostgreSQL: a null or an
    out-of-range value stops its build); this test checks them on every engine (Spark enforces neither).

    Fails with one row per broken rule: the column, the rule (`not_null`, or the check's expression) and how
    many rows break it. Scoped like every generic test (macros/tests/scoped_tests.sql): on a daily run of a
    per-customer model it reads the restated customers' rows only.
-#}
{% test column_constraints(model) %}
{%- set rules = declared_column_rules() -%}
{%- if execute and rules | length == 0 -%}
    {{ exceptions.raise_compiler_error("column_constraints on a model without a not_null or check constraint on "
                                       ~ "a column: remove the test or declare one") }}
{%- endif %}

with

broken_counts as (
    select
        {%- for rule in rules %}
        sum(case when {{ rule.broken }} then 1 else 0 end) as broken_{{ loop.index }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ model }}
),

rules as (
    {%- for rule in rules %}
    {{ 'union all' if not loop.first }}
    select {{ loop.index }} as rule_position, '{{ rule.column }}' as column_name, '{{ rule.rule | replace("'", "''") }}' as rule
    {%- endfor %}
),

per_rule as (
    select
        rules.column_name,
        rules.rule,
        case rules.rule_position
            {%- for rule in rules %}
            when {{ loop.index }} then broken_counts.broken_{{ loop.index }}
            {%- endfor %}
        end as broken_rows
    from rules
    cross join broken_counts
)

select
    column_name,
    rule,
    broken_rows
from per_rule
where broken_rows > 0

{% endtest %}

{#- The not_null and check constraints declared on the columns of the model (or seed) the calling test is
    attached to, in YAML order: [{column, rule, broken}], `broken` being the SQL condition of a row that breaks
    the rule. `model` here is the test's own node: the test macro's `model` argument (the relation it reads)
    does not reach into this macro. -#}
{% macro declared_column_rules() -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set parent_id = model.attached_node or (model.depends_on.nodes | first) -%}
    {%- set parent = graph.nodes.get(parent_id) -%}
    {%- set found = [] -%}
    {%- for column in (parent.columns.values() if parent is not none else []) -%}
        {%- for constraint in column.constraints -%}
            {%- if constraint.type == 'not_null' -%}
                {%- do found.append({'column': column.name, 'rule': 'not_null',
                                     'broken': adapter.quote(column.name) ~ ' is null'}) -%}
            {%- elif constraint.type == 'check' -%}
                {%- do found.append({'column': column.name, 'rule': constraint.expression,
                                     'broken': 'not (' ~ constraint.expression ~ ')'}) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}
