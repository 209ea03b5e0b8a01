{#-
    raw_source(table_name) returns a SELECT over one contract table with every contract column as text, and
    `source_load` (the load a row came in, contract v2; null for a full extract), `load_generation` (the
    generation of the extract of loads, macros/staging_delta.sql) and `source_key` (the row's key as staging
    reads it; both null for a full extract).

    * DuckDB: the table is the dbt-duckdb external source `source('raw', table_name)` (a CSV read with
      all_varchar, or a Parquet file when var raw_format = 'parquet'), found in var raw_dir.
    * Other adapters: the table of that name in var raw_schema.
    Columns may come in any order; extra columns are ignored; a missing optional column reads as null;
    a missing required column stops the build with a clear error. An optional table that is absent reads
    as an empty table; an absent required table stops the build.
-#}
{% macro raw_source(table_name) %}
    {%- set spec = contract()[table_name] -%}
    {%- set columns = spec['required'] + spec['optional'] -%}
    {%- set relation = source('raw', table_name) -%}
    {%- set present = raw_table_columns(table_name, relation) if execute else columns -%}
    {%- if present is none -%}
        {%- if spec['optional_table'] -%}
            {{ log("raw table " ~ table_name ~ " is absent: reading it as empty (optional in the contract)", info=true) }}
            select
            {%- for col in columns %}
                cast(null as {{ dbt.type_string() }}) as {{ col }},
            {%- endfor %}
                cast(null as {{ dbt.type_string() }}) as source_load,
                cast(null as {{ dbt.type_string() }}) as load_generation,
                cast(null as {{ dbt.type_string() }}) as source_key
            {{ empty_relation_filter() }}
        {%- else -%}
            {{ exceptions.raise_compiler_error(
                "Required input table '" ~ table_name ~ "' was not found (" ~ raw_location_hint(table_name) ~ ").") }}
        {%- endif -%}
    {%- else -%}
        {%- set missing = [] -%}
        {%- for col in spec['required'] if col not in present -%}{%- do missing.append(col) -%}{%- endfor -%}
        {%- if missing -%}
            {{ exceptions.raise_compiler_error(
                "Input table '" ~ table_name ~ "' lacks required column(s): " ~ missing | join(', ')
                ~ " (" ~ raw_location_hint(table_name) ~ ").") }}
        {%- endif %}
        {%- set types = raw_parquet_types(relation) if execute and target.type == 'duckdb'
                                                     and var('raw_format', 'csv') == 'parquet' else {} %}
        select
        {%- for col in columns %}
            {% if col in present and types.get(present[col], '').upper().startswith('TIMESTAMP')
                  and col in raw_date_columns() -%}
            {#- pandas writes dates as timestamps: a timestamp at midnight is that date; any other time keeps its
                text and is set aside as invalid_date (a date column holds days) -#}
            case when cast(cast({{ adapter.quote(present[col]) }} as timestamp) as time) = cast('00:00:00' as time)
                 then strftime(cast({{ adapter.quote(present[col]) }} as timestamp), '%Y-%m-%d')
                 else cast({{ adapter.quote(present[col]) }} as {{ dbt.type_string() }}) end
            {%- elif col in present -%}
            cast({{ adapter.quote(present[col]) }} as {{ dbt.type_string() }})
            {%- else -%}
            cast(null as {{ dbt.type_string() }})
            {%- endif %} as {{ col }},
        {%- endfor %}
            {#- the load a row came in: set by arrears/loads.py for a delivery in loads, else null -#}
            {% if 'source_load' in present -%}
            cast({{ adapter.quote(present['source_load']) }} as {{ dbt.type_string() }})
            {%- else -%}
            cast(null as {{ dbt.type_string() }})
            {%- endif %} as source_load,
            {#- the extract's generation (arrears/loads.py): incremental staging restates everything when it changes -#}
            {% if 'load_generation' in present -%}
            cast({{ adapter.quote(present['load_generation']) }} as {{ dbt.type_string() }})
            {%- else -%}
            cast(null as {{ dbt.type_string() }})
            {%- endif %} as load_generation,
            {#- the key as staging reads it, computed once when the row was consolidated (arrears/loads.py) -#}
            {% if 'source_key' in present -%}
            cast({{ adapter.quote(present['source_key']) }} as {{ dbt.type_string() }})
            {%- else -%}
            cast(null as {{ dbt.type_string() }})
            {%- endif %} as source_key
        from {{ relation }}
    {%- endif -%}
{% endmacro %}

{#- The contract's date columns (arrears/validation/files.py DATE_COLUMNS holds the same list). -#}
{% macro raw_date_columns() %}
    {{ return(['invoice_date', 'due_date', 'payment_date', 'action_date', 'promised_date', 'rate_date',
               'created_date']) }}
{% endmacro %}

{#- DuckDB, Parquet input: column name -> DuckDB type name, from the file's schema. -#}
{% macro raw_parquet_types(relation) %}
    {#- a unit test's mocked source is a CTE, not a file: its fixture columns are text already -#}
    {%- if '__dbt__cte__' in (relation | string) -%}{{ return({}) }}{%- endif -%}
    {%- set result = run_query("describe select * from " ~ relation) -%}
    {%- set out = {} -%}
    {%- for row in result.rows -%}{%- do out.update({row[0]: row[1] | string}) -%}{%- endfor -%}
    {{ return(out) }}
{% endmacro %}

{#- A WHERE clause that keeps no row, for a SELECT without FROM (Spark and DuckDB accept it; Postgres too). -#}
{% macro empty_relation_filter() %}where 1 = 0{% endmacro %}

{#- Mapping lower-case contract name -> column name as it is in the input, or none when the table is absent. -#}
{% macro raw_table_columns(table_name, relation) %}
    {{ return(adapter.dispatch('raw_table_columns', 'arrears')(table_name, relation)) }}
{% endmacro %}

{% macro duckdb__raw_table_columns(table_name, relation) %}
    {%- set path = (var('raw_dir') ~ '/' ~ table_name ~ '.' ~ var('raw_format', 'csv')) | replace("'", "''") -%}
    {#- the file, or (Parquet) a folder of that name holding Parquet parts: arrears/loads.py writes the extract of a
        table delivered in loads that way, DuckDB reads the folder as one table -#}
    {%- set found = run_query("select count(*) from glob('" ~ path ~ "')"
                              ~ (" union all select count(*) from glob('" ~ path ~ "/*.parquet')"
                                 if var('raw_format', 'csv') == 'parquet' else "")) -%}
    {%- set found_any = found.columns[0].values() | sum -%}
    {%- if found_any == 0 -%}{{ return(none) }}{%- endif -%}
    {%- set names = get_columns_in_query("select * from " ~ relation) -%}
    {%- set out = {} -%}
    {%- for name in names -%}{%- do out.update({name | lower | trim: name}) -%}{%- endfor -%}
    {{ return(out) }}
{% endmacro %}

{% macro default__raw_table_columns(table_name, relation) %}
    {%- set existing = adapter.get_relation(database=relation.database, schema=relation.schema,
                                            identifier=relation.identifier) -%}
    {%- if existing is none -%}{{ return(none) }}{%- endif -%}
    {%- set out = {} -%}
    {%- for column in adapter.get_columns_in_relation(existing) -%}
        {%- do out.update({column.name | lower | trim: column.name}) -%}
    {%- endfor -%}
    {{ return(out) }}
{% endmacro %}

{% macro raw_location_hint(table_name) %}
    {%- if target.type == 'duckdb' -%}
        {{ return("looked for " ~ var('raw_dir') ~ "/" ~ table_name ~ "." ~ var('raw_format', 'csv')) }}
    {%- else -%}
        {{ return("looked for table " ~ var('raw_schema', 'raw') ~ "." ~ table_name) }}
    {%- endif -%}
{% endmacro %}
