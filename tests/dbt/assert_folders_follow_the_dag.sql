{{ config(severity='error') }}
/*
    The folders follow the DAG (docs/architecture.md): models/staging/ reads only sources, seeds and staging;
    models/intermediate/ reads only staging and intermediate; models/marts/ reads anything upstream. One row per
    model that reads a later layer than its own folder's. If this fails, a model sits in the wrong folder (an int_*
    step that reads a mart belongs under models/marts/<area>/intermediate/), and the folders no longer tell a
    newcomer what a model may depend on.
*/
{%- set layer_order = {'staging': 1, 'intermediate': 2, 'marts': 3} %}
{%- set violations = [] %}
{%- if execute %}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' %}
        {%- set layer = node.original_file_path.split('/')[1] %}
        {%- for parent_id in node.depends_on.nodes if parent_id.startswith('model.') %}
            {%- set parent = graph.nodes[parent_id] %}
            {%- set parent_layer = parent.original_file_path.split('/')[1] %}
            {%- if layer_order.get(parent_layer, 0) > layer_order.get(layer, 0) %}
                {%- do violations.append((node.original_file_path, parent.original_file_path)) %}
            {%- endif %}
        {%- endfor %}
    {%- endfor %}
{%- endif %}

with

violations as (
    {%- for model_path, reads_path in violations %}
    select '{{ model_path }}' as model_path, '{{ reads_path }}' as reads_path
    union all
    {%- endfor %}
    select cast(null as {{ dbt.type_string() }}) as model_path, cast(null as {{ dbt.type_string() }}) as reads_path
    {{ empty_relation_filter() }}
),

final as (
    select model_path, reads_path
    from violations
)

select * from final
