{#-
    duplicate_keys(table_name, keys): the key values delivered more than once in one raw contract table (every
    row of such a key is set aside as `duplicate_key`). A small set, joined back cheaply by each
    stg_<table>_checked model; read from the source again (only the key columns) so the typed rows stream
    instead of being held for two readers.

    keys: [(alias, expression), ...] over the raw text columns; default: the table's contract key
    (arrears/contract.py), each column trimmed with clean_text. rows: the raw rows to read, a SELECT with
    raw_source's columns (default: the whole table; incremental staging reads only the rows it restates,
    staged_raw()).
-#}
{% macro duplicate_keys(table_name, keys=none, rows=none) -%}
    {%- if keys is none -%}
        {%- set keys = [] -%}
        {%- for column in contract()[table_name]['key'] -%}
            {%- do keys.append((column, clean_text(column))) -%}
        {%- endfor -%}
    {%- endif -%}
    select {% for key in keys %}{{ key[0] }}{{ ', ' if not loop.last }}{% endfor %}
    from (
        select
            {%- for key in keys %}
            {{ key[1] }} as {{ key[0] }}{{ ',' if not loop.last }}
            {%- endfor %}
        from ({{ rows if rows is not none else raw_source(table_name) }}) as raw_keys
    ) as delivered_keys
    where {% for key in keys %}{{ key[0] }} is not null{{ ' and ' if not loop.last }}{% endfor %}
    group by {% for key in keys %}{{ key[0] }}{{ ', ' if not loop.last }}{% endfor %}
    having count(*) > 1
{%- endmacro %}
