{#-
    Incremental staging of tables delivered as daily loads (contract v2; issue 15, docs/decisions.md).

    stg_invoices_checked, stg_payments_checked and stg_collection_actions_checked hold one row per raw row with
    its quarantine reason. On a daily run they restate only:
    (1) the rows of loads they have not processed yet: the loads in the source (arrears/loads.py writes the
        load of every row in `source_load`) that none of their stored rows came in, with every other row of
        the keys those loads bring (a newer version replaces the stored one; a key delivered twice is set aside
        as a whole);
    (2) stored rows whose references changed although the row did not: the customer became known or unknown,
        the linked invoice appeared, vanished or changed customer, the currency became known, the FX rate of
        its day changed, or the run date's cutoff passed its date. Each row stores what it saw
        (`reference_state`, `fx_rate_to_base`); a row is restated when what it would see now differs. A staged
        invoice changes only when its key is restaged, so when the payments' staging knows that the invoices'
        `__delta` lists every invoice key restaged since its own previous run (the two models' runs chained:
        staging_invoices_chained), only the stored payments naming one of those invoices look their invoice up
        again; the others keep the invoice part of the state they stored.
    Everything else is kept as stored. The whole table is restated instead when the source is not a
    delivery in loads (a full extract has no `load_generation`), when the extract was rebuilt from every load
    (a processed load changed: a new `load_generation`), or when the staging rules changed (`rules_version`:
    the base currency, the contract's codes, these macros' version).

    The model reads the rows of (1) by the names of the new loads, a literal list the engine prunes the
    Parquet scan with (the day's row groups only), and the rows of (2) by their keys (staged_raw()).
    A run's restated keys (`restated_for`: 'load' or 'reference') and new loads are kept in
    `staging.<model>__delta` (created by a pre-hook, read by the delete and by the model): which keys the last
    run restated, and why, can be read there. The rows the run wrote are kept in `staging.<model>__written`
    (strategy staged_append, below), which the model's data tests read (macros/tests/scoped_tests.sql). A run
    that restates the whole table (a full refresh too) drops both.
    Spark: tables rebuilt in full (no incremental staging there).
-#}

{#- bumped by hand when a rule or a column of a checked model changes in a way the settings below do not show:
    the next run then restates the whole table (a warehouse built before these models were incremental has
    no rules_version and is restated in full too; sync_all_columns brings its columns up to date) -#}
{% macro staging_rules_revision() %}1{% endmacro %}

{% macro staging_rules_version(table_name) -%}
    {%- set settings = [staging_rules_revision(), table_name, var('base_currency')] -%}
    {%- for code_set in ['document_type', 'status', 'channel', 'outcome', 'hardship_reason'] -%}
        {%- do settings.append(contract_codes(code_set) | join(',')) -%}
    {%- endfor -%}
    {{ return(local_md5(settings | join('|'))) }}
{%- endmacro %}

{#- The rows of a checked model its view (stg_invoices, stg_payments, ...) publishes: those with no quarantine
    reason. The one condition of the views and of their tests' scope (macros/tests/scoped_tests.sql). -#}
{% macro staged_valid_rows() -%}
    reason_code is null
{%- endmacro %}

{#- The config of an incrementally staged checked model. -#}
{% macro staging_incremental(table_name) -%}
    {{ return({
        'materialized': 'table' if target.type == 'spark' else 'incremental',
        'incremental_strategy': 'staged_append',
        'on_schema_change': 'sync_all_columns',
        'pre_hook': [
            "{% if target.type != 'spark' %}drop table if exists {{ staging_companion(this, 'written') }}{% endif %}",
            "{% if is_incremental() %}{{ staging_delta_prepare(this, '" ~ table_name ~ "') }}"
            ~ "{% elif target.type != 'spark' %}drop table if exists {{ staging_delta_relation(this) }}{% endif %}",
            "{% if is_incremental() %}{{ staging_delta_delete(this, '" ~ table_name ~ "') }}{% endif %}",
        ],
        'post_hook': staging_run_post_hooks(table_name),
    }) }}
{%- endmacro %}

{#- The incremental strategy of the checked models (`incremental_strategy='staged_append'`): append the rows the
    model checked. When the run restated only what changed (its `__delta` is there), they go through a copy kept
    in `staging.<model>__written`: the rows this run wrote, which the staging tests read (macros/tests/
    scoped_tests.sql, staged_scope). Selecting them back from the table by their keys reads every row of it (the
    day's keys are spread over all of it): at 1,000,000 customers the daily run's staging tests took 19.0 to
    20.5 s that way and 3.1 to 3.4 s reading the copy (three runs each; docs/decisions.md). The copy is as small
    as the day. A run that restates the whole table (no `__delta`) writes none: it would copy every row,
    and its tests read everything anyway. `__written` is dropped before every run (first pre-hook). -#}
{% macro get_incremental_staged_append_sql(arg_dict) -%}
    {%- set target_relation = arg_dict['target_relation'] -%}
    {%- if relation_in_catalog(staging_delta_relation(target_relation)) -%}
        {{ return(append_through_copy(arg_dict, staging_companion(target_relation, 'written'))) }}
    {%- endif -%}
    {{ return(get_incremental_append_sql(arg_dict)) }}
{%- endmacro %}

{#- A table a checked model keeps beside it in its own schema: `<model>__<suffix>` (delta, written, run,
    invoices_run) -#}
{% macro staging_companion(model, suffix) -%}
    {{ return(api.Relation.create(database=model.database, schema=model.schema,
                                  identifier=model.identifier ~ '__' ~ suffix)) }}
{%- endmacro %}

{% macro staging_delta_relation(model) -%}
    {{ return(staging_companion(model, 'delta')) }}
{%- endmacro %}

{#- Post-hooks that chain the runs of the invoices' and the payments' staging, so a payments run can tell that
    the invoices' `__delta` holds every invoice key restaged since the payments' previous run
    (staging_invoices_chained): stg_invoices_checked keeps its dbt invocation and the previous one in `__run`
    (run_chain_post_hooks); stg_payments_checked keeps, in `__invoices_run`, the invoices' run it was built on.
    None on Spark, where these models are tables rebuilt in full. -#}
{% macro staging_run_post_hooks(table_name) -%}
    {%- if table_name == 'invoices' -%}
        {{ return(run_chain_post_hooks(companion='staging_companion')) }}
    {%- elif table_name == 'payments' -%}
        {{ return([
            "{% if target.type != 'spark' %}drop table if exists {{ staging_companion(this, 'invoices_run') }}{% endif %}",
            "{% set invoices_run = staging_companion(ref('stg_invoices_checked'), 'run') %}"
            ~ "{% if target.type != 'spark' and relation_in_catalog(invoices_run) %}"
            ~ "create table {{ staging_companion(this, 'invoices_run') }} as select invocation_id from {{ invoices_run }}"
            ~ "{% endif %}",
        ]) }}
    {%- endif -%}
    {{ return([]) }}
{%- endmacro %}

{#- The invoices' `__delta` when it holds every invoice key whose staged row changed since this payments model's
    previous run, so only the stored payments naming those invoices can see another invoice now: the invoices'
    staging ran in this dbt invocation and restated only what changed (its `__delta` is there; a run that
    restages every invoice drops it), and the previous invoices' run is the one this model's previous run was
    built on (`__run` against `__invoices_run`). None otherwise (the invoices staged by another invocation, run
    twice without this model, restaged in full, or a failed run of either): every stored payment's invoice is
    looked up. The catalog, not dbt's relation cache: the invoices' hooks wrote these tables in this run. -#}
{% macro staging_invoices_chained(model) -%}
    {%- set invoices = ref('stg_invoices_checked') -%}
    {%- set delta = staging_delta_relation(invoices) -%}
    {%- set invoices_run = staging_companion(invoices, 'run') -%}
    {%- set seen = staging_companion(model, 'invoices_run') -%}
    {{ return(delta if execute and runs_chained(invoices_run, seen, [delta]) else none) }}
{%- endmacro %}

{#- True when this run restates only what changed (see above); false on a full refresh or a first run. Decided
    from the state before the pre-hooks run, identically in the hooks and in the model. -#}
{% macro staging_delta_active(model, table_name) -%}
    {%- if not execute or target.type == 'spark' or not is_incremental() -%}{{ return(false) }}{%- endif -%}
    {%- set present = raw_table_columns(table_name, source('raw', table_name)) -%}
    {%- if present is none or 'load_generation' not in present or 'source_load' not in present
          or 'source_key' not in present -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set stored_columns = adapter.get_columns_in_relation(model) | map(attribute='name') | map('lower') | list -%}
    {%- if 'load_generation' not in stored_columns or 'rules_version' not in stored_columns
          or 'reference_state' not in stored_columns -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set state -%}
        select
            (select max({{ adapter.quote(present['load_generation']) }}) from {{ source('raw', table_name) }}),
            (select min(load_generation) from {{ model }}),
            (select max(load_generation) from {{ model }}),
            (select min(rules_version) from {{ model }}),
            (select max(rules_version) from {{ model }})
    {%- endset -%}
    {%- set row = run_query(state).rows[0] -%}
    {%- set rules = staging_rules_version(table_name) -%}
    {{ return(row[0] is not none and row[1] == row[0] and row[2] == row[0] and row[3] == rules and row[4] == rules) }}
{%- endmacro %}

{#- The loads in the source that none of the model's stored rows came in, as a list of names (a daily run: the
    day's load); asked of the database when the model is compiled and again by its pre-hook, from the same
    state. Only called when staging_delta_active(). -#}
{% macro staging_new_loads(model, table_name) -%}
    {%- set present = raw_table_columns(table_name, source('raw', table_name)) -%}
    {%- set found = run_query(
        "select distinct delivered.source_load from (select distinct "
        ~ adapter.quote(present['source_load']) ~ " as source_load from " ~ source('raw', table_name)
        ~ ") as delivered left join (select distinct source_load from " ~ model ~ ") as stored"
        ~ " on delivered.source_load = stored.source_load"
        ~ " where delivered.source_load is not null and stored.source_load is null order by 1") -%}
    {{ return(found.columns[0].values() | list) }}
{%- endmacro %}

{#- `column in (the names)` as SQL; false for no name. A literal list, so the engine filters the Parquet scan
    by it (row groups of other loads are skipped): a semi-join to a table of the names reads every row. -#}
{% macro staging_in_loads(column, loads) -%}
    {%- if loads | length == 0 -%}
    1 = 0
    {%- else -%}
    {{ column }} in ({% for load in loads %}'{{ load | replace("'", "''") }}'{{ ', ' if not loop.last }}{% endfor %})
    {%- endif -%}
{%- endmacro %}

{#- pre-hook: the keys and new loads this run restates, into <model>__delta (only when delta is active):
    restated_for = 'load' for the keys the new loads bring (and the new loads themselves, in new_load),
    'reference' for stored keys whose references changed -#}
{% macro staging_delta_prepare(model, table_name) -%}
    {%- set delta = staging_delta_relation(model) -%}
    {%- set key = contract()[table_name]['key'][0] -%}
    {%- if staging_delta_active(model, table_name) %}
    {%- set new_loads = staging_new_loads(model, table_name) %}
    {#- payments: with the invoices' record of what they restaged since this model's last run, only the stored
        payments naming one of those invoices are looked up again; the others saw the invoice they see now -#}
    {%- set invoices_delta = staging_invoices_chained(model) if table_name == 'payments' else none %}
    {%- set changed_invoice_ids = 'select restated_key from ' ~ invoices_delta ~ ' where restated_key is not null'
                                  if invoices_delta is not none else none %}
    drop table if exists {{ delta }};
    create table {{ delta }} as
    with
    {{ staging_lookup_ctes(table_name, invoice_ids=changed_invoice_ids) }},
    {%- if changed_invoice_ids is not none %}
    changed_invoices as (select distinct restated_key as invoice_id from ({{ changed_invoice_ids }}) as restaged),
    {%- endif %}
    -- stored rows whose references changed since they were checked
    changed_references as (
        select stored.{{ key }} as restated_key
        from {{ model }} as stored
        {{ staging_lookup_joins(table_name, 'stored') }}
        {%- if changed_invoice_ids is not none %}
        left join changed_invoices on stored.invoice_id = changed_invoices.invoice_id
        {%- endif %}
        where stored.{{ key }} is not null
          and (stored.reference_state is distinct from {{ staging_reference_state(table_name, 'stored',
                   invoice_part=(none if changed_invoice_ids is none else
                                 "case when changed_invoices.invoice_id is not null then coalesce(invoices.customer_id, '-') "
                                 ~ "else " ~ stored_invoice_part('stored.reference_state') ~ " end")) }}
          {%- if table_name in ('invoices', 'payments') %}
               or stored.fx_rate_to_base is distinct from {{ rate_to_base('stored.currency', 'fx_daily.rate_to_base') }}
          {%- endif %})
    )
    select distinct
        source_key as restated_key,
        cast(null as {{ dbt.type_string() }}) as new_load,
        'load' as restated_for
    from ({{ raw_source(table_name) }}) as raw_rows
    where {{ staging_in_loads('source_load', new_loads) }}
      and source_key is not null
    union
    select restated_key, cast(null as {{ dbt.type_string() }}) as new_load, 'reference' as restated_for
    from changed_references
    {%- for load in new_loads %}
    union
    select cast(null as {{ dbt.type_string() }}) as restated_key, '{{ load | replace("'", "''") }}' as new_load,
           'load' as restated_for
    {%- endfor %}
    {%- else %}
    drop table if exists {{ delta }}
    {%- endif %}
{%- endmacro %}

{#- pre-hook: remove what this run restates (every row when delta is not active) -#}
{% macro staging_delta_delete(model, table_name) -%}
    {%- set key = contract()[table_name]['key'][0] -%}
    {%- if staging_delta_active(model, table_name) -%}
    delete from {{ model }}
    where {{ key }} in (select restated_key from {{ staging_delta_relation(model) }} where restated_key is not null)
    {%- else -%}
    delete from {{ model }}
    {%- endif -%}
{%- endmacro %}

{#- in the model: the raw rows this run checks, as a SELECT (raw_source's columns). On a daily run of loads: every
    row of the new loads (a filter by load name, which prunes the Parquet scan to those loads' row groups:
    a semi-join on the keys read every row, 13 s of the payments model at 1,000,000 customers) and the rows
    of the keys restated for their references (a semi-join on `source_key`, the key as staging reads it, written
    once by arrears/loads.py; skipped by the engine when no reference changed); every row otherwise. All rows
    of a key come from one load, so a key delivered twice is in the selection as a whole and duplicate_keys()
    may read the selection only. `active`: staging_delta_active() when the model has asked already. -#}
{% macro staged_raw(table_name, active=none) -%}
    {%- if (staging_delta_active(this, table_name) if active is none else active) -%}
    {%- set new_loads = staging_new_loads(this, table_name) -%}
    select * from ({{ raw_source(table_name) }}) as raw_rows
    where {{ staging_in_loads('source_load', new_loads) }}
    union all
    select * from ({{ raw_source(table_name) }}) as raw_rows
    where source_key in (select restated_key from {{ staging_delta_relation(this) }}
                         where restated_for = 'reference')
      and not coalesce({{ staging_in_loads('source_load', new_loads) }}, false)
    {%- else -%}
    {{ raw_source(table_name) }}
    {%- endif -%}
{%- endmacro %}

{#- The references a checked table looks up, as CTEs (customers, invoices, fx_daily, known_currencies).
    invoice_ids: a SELECT of the invoice ids the rows name, to read only those invoices (a daily run: the hash
    join then holds the day's invoices, not all of them; the payments body's query 3.4 s -> 1.6 s at 1,000,000
    customers, the second of two runs each). -#}
{% macro staging_lookup_ctes(table_name, invoice_ids=none) -%}
    customers as (select customer_id from {{ ref('stg_customers') }})
    {%- if table_name == 'payments' %},
    invoices as (
        select invoice_id, customer_id from {{ ref('stg_invoices') }}
        {%- if invoice_ids is not none %}
        where invoice_id in ({{ invoice_ids }})
        {%- endif %}
    )
    {%- endif %}
    {%- if table_name in ('invoices', 'payments') %},
    fx_daily as (select * from {{ ref('stg_fx_rates_daily') }}),
    known_currencies as (select distinct currency from {{ ref('stg_fx_rates') }})
    {%- endif %}
{%- endmacro %}

{% macro staging_date_column(table_name) -%}
    {{ return({'invoices': 'invoice_date', 'payments': 'payment_date', 'collection_actions': 'action_date'}[table_name]) }}
{%- endmacro %}

{#- The joins to those references for rows `alias` (typed columns customer_id, currency, invoice_id, the date). -#}
{% macro staging_lookup_joins(table_name, alias) -%}
    left join customers on {{ alias }}.customer_id = customers.customer_id
    {%- if table_name == 'payments' %}
    left join invoices on {{ alias }}.invoice_id = invoices.invoice_id
    {%- endif %}
    {%- if table_name in ('invoices', 'payments') %}
    left join known_currencies on {{ alias }}.currency = known_currencies.currency
    left join fx_daily
        on {{ alias }}.currency = fx_daily.currency
       and {{ alias }}.{{ staging_date_column(table_name) }} = fx_daily.rate_day
    {%- endif %}
{%- endmacro %}

{#- What a row saw of its references, as text (stored as reference_state; FX is compared through
    fx_rate_to_base): customer known, linked invoice's customer, currency known, dated after the cutoff.
    `invoice_part`: the expression of the linked invoice's customer, when not looked up in `invoices`. -#}
{% macro staging_reference_state(table_name, alias, invoice_part=none) -%}
    concat(
        case when customers.customer_id is null then '0' else '1' end
        {%- if table_name == 'payments' %},
        '|', {{ invoice_part if invoice_part is not none else "coalesce(invoices.customer_id, '-')" }}
        {%- endif %}
        {%- if table_name in ('invoices', 'payments') %},
        '|', case when known_currencies.currency is null then '0' else '1' end
        {%- endif %},
        '|', case when {{ alias }}.{{ staging_date_column(table_name) }} > {{ document_cutoff_sql() }} then '1' else '0' end
    )
{%- endmacro %}

{#- The linked invoice's customer (or '-') inside a payment's stored reference_state (staging_reference_state:
    one character for the customer, '|', this part, then '|' and two one-character parts), whatever characters
    the customer id holds. -#}
{% macro stored_invoice_part(state) -%}
    substring({{ state }}, 3, length({{ state }}) - 6)
{%- endmacro %}
