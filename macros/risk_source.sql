{#-
    risk_source(table_name) returns a SELECT over one risk-model output table, typed, or an empty relation
    with the same columns when the model wrote nothing (too few labels to train, or no training run yet):
    the decision models then build, every customer gets 'no_score' and the monitoring is empty.

    * DuckDB: source('risk', table_name) is read_parquet() of a file in var risk_scores_dir
      (risk_scores.parquet, risk_scores_training_distribution.parquet).
    * Other adapters: the table of that name in var risk_schema.
-#}
{% macro risk_source_columns() %}
    {{ return({
        'risk_scores': [
            ('customer_id', dbt.type_string()), ('observation_date', 'date'), ('pd', dbt.type_float()),
            ('score', dbt.type_bigint()), ('score_band', dbt.type_string()), ('model_name', dbt.type_string()),
            ('model_version', dbt.type_string()), ('trained_at', dbt.type_timestamp())],
        'risk_score_training_distribution': [
            ('model_name', dbt.type_string()), ('model_version', dbt.type_string()),
            ('trained_at', dbt.type_timestamp()), ('bin', dbt.type_int()), ('score_lower', dbt.type_float()),
            ('score_upper', dbt.type_float()), ('train_count', dbt.type_bigint()), ('train_share', dbt.type_float())],
    }) }}
{% endmacro %}

{% macro risk_source_file(table_name) %}
    {%- set files = {'risk_scores': 'risk_scores.parquet',
                     'risk_score_training_distribution': 'risk_scores_training_distribution.parquet'} -%}
    {{ return(var('risk_scores_dir', 'target/risk') ~ '/' ~ files[table_name]) }}
{% endmacro %}

{% macro risk_source(table_name) %}
    {%- set columns = risk_source_columns()[table_name] -%}
    {%- set relation = source('risk', table_name) -%}
    {%- set present = risk_source_present(table_name, relation) if execute else true -%}
    {%- if not present -%}
        {{ log("risk output " ~ table_name ~ " is absent (" ~ risk_source_hint(table_name)
               ~ "): reading it as empty, decisions will say no_score", info=true) }}
        select
        {%- for name, type in columns %}
            cast(null as {{ type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
        {{ empty_relation_filter() }}
    {%- else %}
        select
        {%- for name, type in columns %}
            cast({{ name }} as {{ type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
        from {{ relation }}
    {%- endif -%}
{% endmacro %}

{% macro risk_source_present(table_name, relation) %}
    {{ return(adapter.dispatch('risk_source_present', 'arrears')(table_name, relation)) }}
{% endmacro %}

{% macro duckdb__risk_source_present(table_name, relation) %}
    {%- set path = risk_source_file(table_name) -%}
    {%- set found = run_query("select count(*) from glob('" ~ path | replace("'", "''") ~ "')") -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{% endmacro %}

{% macro default__risk_source_present(table_name, relation) %}
    {%- set existing = adapter.get_relation(database=relation.database, schema=relation.schema,
                                            identifier=relation.identifier) -%}
    {{ return(existing is not none) }}
{% endmacro %}

{% macro risk_source_hint(table_name) %}
    {%- if target.type == 'duckdb' -%}
        {{ return("looked for " ~ risk_source_file(table_name)) }}
    {%- else -%}
        {{ return("looked for table " ~ var('risk_schema', 'risk') ~ "." ~ table_name) }}
    {%- endif -%}
{% endmacro %}
