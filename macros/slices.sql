{#-
    Full builds of per-customer models one range of customers at a time (issue 15, docs/decisions.md,
    "Full builds of the history and the risk features in ranges of customers").

    A per-customer model computes each customer from that customer's rows only: what lets a daily run restate
    some customers and keep the others (macros/restated.sql), and what lets a full build compute the customers
    in parts. On a full build on DuckDB of a model marked `meta.sliced_full_build` (per_customer_incremental(sliced=
    true), and the history) with more than var('full_build_slice_customers') customers,
    the customers are cut into ranges of that many ids (in id order over `int_customer_fingerprints`, one row
    per customer); the model's own statement computes the first range (its sources filtered by
    customer_slice()), and a post-hook (insert_customer_slices) appends each other range: the model's compiled
    SQL again, with the first range's condition replaced by that range's. The ranges follow one another in id
    order, so a model written sorted by customer (sorted_before_write) stays sorted as a whole.
    Why: the wide aggregates and windows of these models hold every customer's rows at once on a full build
    (107 M open invoice-snapshot rows into 36.5 M groups in the history at 1,000,000 customers) and spill far
    past the memory limit; in ranges they were faster (the history alone 219.8 s whole, 137.2 s in 8 ranges).
    Each range reads its sources again. Cut: the history and the risk features. Whole: the allocation (no
    faster in ranges, a streaming window), int_customer_monthly (ran out of memory writing a range under 4 GB
    where the whole statement passes), the linked payments and the settlement (not measured).
    A daily run (is_incremental) is not cut: it computes only the customers it restates. Not on PostgreSQL or
    Spark either, where the statement runs whole (Spark spreads it over its executors).
    var('full_build_slice_customers') 0 turns slicing off; the result is the same table either way (the
    equality test in tests/pytest/test_slices.py).
-#}

{#- The conditions on `customer_id` of the ranges this build computes, in id order; none (an empty list) when
    the model is built in one statement. Asked of the database from the same table by the model's statement
    and by its post-hook, so both see the same ranges. -#}
{% macro customer_slices() -%}
    {%- set customers = ref('int_customer_fingerprints') -%}
    {%- set per_slice = var('full_build_slice_customers') | int -%}
    {%- if not execute or target.type != 'duckdb' or is_incremental() or per_slice <= 0
          or not model.config.get('meta', {}).get('sliced_full_build', false) -%}
        {{ return([]) }}
    {%- endif -%}
    {#- no customers table yet (a linter compiling the model on an empty warehouse): built whole -#}
    {%- if not relation_in_catalog(customers) -%}
        {{ return([]) }}
    {%- endif -%}
    {#- a bound every `per_slice` ids in id order (the first id of each range after the first), one query -#}
    {%- set found = run_query('select customer_id from (select customer_id, row_number() over (order by customer_id)'
                              ~ ' as position from ' ~ customers ~ ' where customer_id is not null) as ordered'
                              ~ ' where position > 1 and (position - 1) % ' ~ per_slice ~ ' = 0 order by customer_id') -%}
    {%- set bounds = [] -%}
    {%- for bound in found.columns[0].values() -%}
        {%- do bounds.append("'" ~ bound | replace("'", "''") ~ "'") -%}
    {%- endfor -%}
    {%- if not bounds -%}
        {{ return([]) }}
    {%- endif -%}
    {#- the first range takes the ids below the first bound and a missing id, so no row falls outside every
        range; the last takes every id from the last bound on -#}
    {%- set conditions = ['(customer_id < ' ~ bounds[0] ~ ' or customer_id is null)'] -%}
    {%- for i in range(1, bounds | length) -%}
        {%- do conditions.append('(customer_id >= ' ~ bounds[i - 1] ~ ' and customer_id < ' ~ bounds[i] ~ ')') -%}
    {%- endfor -%}
    {%- do conditions.append('customer_id >= ' ~ bounds[-1]) -%}
    {{ return(conditions) }}
{%- endmacro %}

{#- In a per-customer model's import CTE: `<keyword> <the first range's condition>` on a sliced full build,
    nothing otherwise. -#}
{% macro customer_slice(keyword='where') -%}
    {%- set slices = customer_slices() -%}
    {%- if slices %} {{ keyword }} {{ slices[0] }}{% endif -%}
{%- endmacro %}

{#- post-hook: append the other ranges of a sliced full build (see above); nothing otherwise. -#}
{% macro insert_customer_slices() -%}
    {%- set slices = customer_slices() -%}
    {%- if slices and compiled_code is none -%}
        {{ exceptions.raise_compiler_error('insert_customer_slices: no compiled SQL for ' ~ this) }}
    {%- endif -%}
    {%- for condition in slices[1:] %}
    insert into {{ this }} {{ compiled_code | replace(slices[0], condition) }};
    {%- endfor -%}
{%- endmacro %}
