{#-
    Per-customer incremental models (docs/decisions.md, "Which customers a daily run restates").

    A daily run recomputes, in such a model, only the customers whose result may have changed since the
    model's previous run, and keeps every other customer's rows:
    (1) customers with an invoice, credit note or payment dated between the previous run's as-of date and
        this one, in either direction (a backfill moves the as-of date back): documents that enter or leave
        the as-of view;
    (2) customers whose documents changed although dated earlier (a correction or a void delivered in a later
        load): their fingerprint (int_customer_fingerprints) differs from the one the model stored at its
        previous run;
    (3) customers with an invoice or payment in a currency whose daily rate (stg_fx_rates_daily) changed on a
        day both runs see (on or before both as-of dates): a corrected or late historical rate. A daily FX load
        brings the rate of the new day, which no stored row used (documents of that day are restated by (1),
        new snapshot dates are computed for everyone), so it restates nobody; a change of base currency
        restates everyone.
    A month-end model (int_customer_monthly, mart_risk_features) reads documents and contacts dated up to the
    latest month end on or before the as-of date, and restates everyone when that month end changes; otherwise
    (1) concerns it not (every such document is dated after that month end), (2) compares the fingerprints of
    what is dated up to it (`*_to_month_end`), and the customers its upstream per-customer model restated in
    the same dbt invocation are restated too (the history's month-end rows, which follow the allocation as of
    the as-of date, for int_customer_monthly; int_customer_monthly's rows for mart_risk_features): a day's new
    documents and contacts restate only the customers whose past they moved.
    Each model stores the fingerprints and the as-of date it was built from in its own table
    `intermediate.<model>__fingerprints`, and the daily rates up to that as-of date in `<model>__fx_rates`
    (post-hooks drop_companion + store_fingerprints, store_fx_rates), so a model whose run failed restates again
    next time, whatever happened to the others. Without those tables (a warehouse built before they existed), or
    when the stored table lacks a column its YAML documents (lacks_documented_columns: an upgrade added one),
    every customer is restated. The customers an incremental run restates are written once, before the model
    is built, to `intermediate.<model>__restated` (pre-hooks), which the delete and the model's body read:
    the record of what the last run recomputed. The rows the run wrote are kept too, in `<model>__written`
    (incremental strategy `restate`), for its data tests and for the models downstream that read the same
    customers' rows (rows_of_customers). Not used on Spark, where these models are tables rebuilt in full.
-#}

{#- A table a per-customer model keeps beside it in the intermediate schema: `<model>__<suffix>`
    (fingerprints, fx_rates, restated) -#}
{% macro companion_relation(model, suffix) -%}
    {%- set fingerprints = ref('int_customer_fingerprints') -%}
    {{ return(api.Relation.create(database=fingerprints.database, schema=fingerprints.schema,
                                  identifier=model.identifier ~ '__' ~ suffix)) }}
{%- endmacro %}

{%- macro relation_exists(relation) -%}
    {{ return(execute and adapter.get_relation(database=relation.database, schema=relation.schema,
                                               identifier=relation.identifier) is not none) }}
{%- endmacro %}

{#- Whether `relation` is in the database's catalog now: unlike relation_exists (dbt's relation cache, filled
    when the run started), it sees a table this run created, such as an upstream model's `__written`. -#}
{%- macro relation_in_catalog(relation) -%}
    {{ return(relations_in_catalog([relation])) }}
{%- endmacro -%}

{#- Whether every one of `relations` is in the catalog now (relation_in_catalog), asked in one query. -#}
{%- macro relations_in_catalog(relations) -%}
    {%- if not execute -%}{{ return(false) }}{%- endif -%}
    {%- set matches = [] -%}
    {%- for relation in relations -%}
        {%- do matches.append("when table_schema = '" ~ relation.schema ~ "' and table_name = '" ~ relation.identifier
                              ~ "'" ~ (" and table_catalog = '" ~ relation.database ~ "'" if relation.database else "")
                              ~ " then " ~ loop.index) -%}
    {%- endfor -%}
    {#- how many of the relations were found (each counted once, whatever else the catalog holds) -#}
    {%- set found = run_query("select count(distinct case " ~ matches | join(" ") ~ " end)"
                              ~ " from information_schema.tables") -%}
    {{ return(found.columns[0].values()[0] | int == relations | length) }}
{%- endmacro -%}

{#- The `columns` of the rows of the per-customer model `relation` whose customer is in the query `customers`.
    When the model's last run was incremental, its restated customers' rows are read from the copy it wrote
    (`__written`, see get_incremental_restate_sql) and only the other customers' from the model's table: a
    semi-join on the table reads all of it, whereas one whose list of customers is empty reads nothing. The copy
    holds every row of each restated customer (all were deleted and written again) and nothing changed them
    since: the model's next run drops it first, and a failed run leaves both as they were. Only the restated
    customers' rows are read from it (the history's copy also holds every customer's rows of its new dates). -#}
{% macro rows_of_customers(relation, customers, columns) -%}
    {%- set written = companion_relation(relation, 'written') -%}
    {%- set restated = companion_relation(relation, 'restated') -%}
    {%- set selected = columns | join(', ') -%}
    {%- if target.type != 'spark' and relation_in_catalog(written) and relation_in_catalog(restated) -%}
    (select {{ selected }} from {{ written }}
     where customer_id in ({{ customers }}) and customer_id in (select customer_id from {{ restated }})
     union all
     select {{ selected }} from {{ relation }}
     where customer_id in (select customer_id from ({{ customers }}) as wanted
                           where customer_id not in (select customer_id from {{ restated }})))
    {%- else -%}
    (select {{ selected }} from {{ relation }} where customer_id in ({{ customers }}))
    {%- endif -%}
{%- endmacro %}

{#- In a per-customer model's body: a subquery (aliased `alias`) of the rows of the upstream per-customer model
    `model_name` for the customers this run restates on an incremental run (rows_of_customers: the upstream's
    copy of what it wrote, where it restated the same customers), all of its rows on a full refresh (the first
    range of customers when the build is cut into ranges, macros/slices.sql). -#}
{% macro restated_rows(model_name, alias) -%}
    {%- set relation = ref(model_name) -%}
    {%- if is_incremental() and execute -%}
        {%- set columns = [] -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do columns.append(adapter.quote(column.name)) -%}
        {%- endfor -%}
        {{ rows_of_customers(relation, 'select customer_id from ' ~ companion_relation(this, 'restated'), columns) }} as {{ alias }}
    {%- else -%}
        (select * from {{ relation }}{{ customer_slice() }}) as {{ alias }}
    {%- endif -%}
{%- endmacro %}

{#- The upstream per-customer model `upstream_name`'s record of the customers its run in this dbt invocation
    restated (`<upstream>__restated`), when this model can build on it: the upstream ran in this invocation
    (its `__run`, macros/history_restated.sql run_chain_post_hooks) and this model saw its previous run (this
    model's `<model>__<seen_suffix>` holds that run's invocation, chained_run_post_hooks), so no restated
    customer was missed; none otherwise (a full refresh, the upstream rebuilt from scratch, run without this
    model, or a run of either that failed). The catalog, not dbt's relation cache: the upstream's hooks wrote
    these tables after the cache was filled. -#}
{% macro chained_restated(upstream_name, seen_suffix) -%}
    {%- if not execute or not is_incremental() or target.type == 'spark' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set upstream = ref(upstream_name) -%}
    {%- set restated = companion_relation(upstream, 'restated') -%}
    {%- set upstream_run = companion_relation(upstream, 'run') -%}
    {%- set seen = companion_relation(this, seen_suffix) -%}
    {{ return(restated if runs_chained(upstream_run, seen, [restated]) else none) }}
{%- endmacro %}

{#- True when the upstream model ran in this dbt invocation (`upstream_run`, its `__run`: this invocation and the
    previous one) and its previous run is the one the model reading it was last built on (`seen`, which holds
    that run's invocation): then the reader saw every run of the upstream model. False when either table, or
    one of the upstream's records the reader needs (`records`), is not in the catalog. -#}
{% macro runs_chained(upstream_run, seen, records=[]) -%}
    {%- if not relations_in_catalog([upstream_run, seen] + records) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set chained = run_query("select count(*) from " ~ upstream_run ~ " as upstream_run inner join " ~ seen
                                ~ " as seen on seen.invocation_id = upstream_run.previous_invocation_id"
                                ~ " where upstream_run.invocation_id = '" ~ invocation_id ~ "'") -%}
    {{ return(chained.columns[0].values()[0] | int > 0) }}
{%- endmacro %}

{#- Post-hooks of a model that reads chained_restated(upstream_name, seen_suffix): the upstream run it was built
    on (its invocation, from the upstream's `__run`) -#}
{% macro chained_run_post_hooks(upstream_name, seen_suffix) -%}
    {{ return([
        "{{ drop_companion(this, '" ~ seen_suffix ~ "') }}",
        "{% if target.type != 'spark' %}create table {{ companion_relation(this, '" ~ seen_suffix ~ "') }} as "
        ~ "select invocation_id from {{ companion_relation(ref('" ~ upstream_name ~ "'), 'run') }}{% endif %}",
    ]) }}
{%- endmacro %}

{#- True when the stored table of the model being run lacks one of the columns its YAML documents (a column
    added by an upgrade of the project): the run then restates every customer, and the incremental
    materialisation adds the column (on_schema_change append_new_columns) before every row is written again,
    instead of leaving it null for the customers the day did not restate. -#}
{% macro lacks_documented_columns(relation) -%}
    {%- if not execute -%}{{ return(false) }}{%- endif -%}
    {%- set stored = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {%- for name in model.columns if name | lower not in stored -%}
        {{ return(true) }}
    {%- endfor -%}
    {{ return(false) }}
{%- endmacro %}

{#- Every customer restated because the stored table lacks a documented column: all its rows
    go (on DuckDB as the table replaced by an empty copy, not a delete: DuckDB cannot commit a transaction that
    deletes from a table and then alters it, which the materialisation does next to add the column). -#}
{% macro emptied_for_new_columns(relation) -%}
    {{ return(adapter.dispatch('emptied_for_new_columns', 'arrears')(relation)) }}
{%- endmacro %}

{% macro default__emptied_for_new_columns(relation) -%}
    delete from {{ relation }}
{%- endmacro %}

{% macro duckdb__emptied_for_new_columns(relation) -%}
    create or replace table {{ relation }} as select * from {{ relation }} where 1 = 0
{%- endmacro %}

{% macro restated_customers(model, monthly=false, window_months=none, upstream=none) -%}
    {%- set fingerprints = ref('int_customer_fingerprints') -%}
    {%- set stored = companion_relation(model, 'fingerprints') -%}
    {%- set stored_fx = companion_relation(model, 'fx_rates') -%}
    {%- if relation_exists(stored) and relation_exists(stored_fx) and not lacks_documented_columns(model) %}
    {#- a month-end model reads its documents and contacts up to the latest month end, which is the same for both
        runs unless everyone is restated (below), and the rows of its per-customer `upstream` up to it, which a
        later document can move (the history's month-end rows follow the allocation as of the as-of date). It
        compares the fingerprints of what is dated up to that month end and takes the customers the upstream
        restated in this invocation (chained_restated); the documents dated between the two as-of dates, all
        after it, do not concern it otherwise. Without the upstream's record, or with fingerprints stored before
        those columns existed, it compares whole fingerprints, with the documents of the days between the runs. -#}
    {%- set upstream_restated = chained_restated(upstream, 'upstream_run') if monthly and upstream else none -%}
    {%- set to_month_end = upstream_restated is not none and 'document_fingerprint_to_month_end' in (
            adapter.get_columns_in_relation(stored) | map(attribute='name') | map('lower') | list) -%}
    {%- set suffix = '_to_month_end' if to_month_end else '' -%}
    {%- if to_month_end %}
    select customer_id from {{ upstream_restated }}
    union
    {%- else %}
    select documents.customer_id
    from (
        select customer_id, invoice_date as document_date from {{ ref('stg_invoices') }}
        union all
        select customer_id, payment_date as document_date from {{ ref('stg_payments') }}
    ) as documents
    cross join (select max(built_as_of) as previous_as_of from {{ stored }}) as previous_run
    cross join {{ ref('int_as_of_date') }} as as_of
    where (documents.document_date > previous_run.previous_as_of and documents.document_date <= as_of.as_of_date)
       or (documents.document_date > as_of.as_of_date and documents.document_date <= previous_run.previous_as_of)
    union
    {%- endif %}
    select coalesce(current_run.customer_id, previous_run.customer_id) as customer_id
    from {{ fingerprints }} as current_run
    full outer join {{ stored }} as previous_run on current_run.customer_id = previous_run.customer_id
    where current_run.document_fingerprint{{ suffix }} is distinct from previous_run.document_fingerprint{{ suffix }}
       -- every base amount changes with the base currency
       or previous_run.base_currency is distinct from '{{ var("base_currency") }}'
    {%- if monthly %}
       or current_run.contact_fingerprint{{ suffix }} is distinct from previous_run.contact_fingerprint{{ suffix }}
       or current_run.customer_fingerprint is distinct from previous_run.customer_fingerprint
    union
    -- a month-end model changes for everyone when its month ends change (one passed, or the as-of date moved back)
    select everyone.customer_id
    from (select customer_id from {{ fingerprints }} union select customer_id from {{ stored }}) as everyone
    cross join (select max(built_as_of) as previous_as_of from {{ stored }}) as previous_run
    cross join {{ ref('int_as_of_date') }} as as_of
    where {{ month_ends_changed('previous_run.previous_as_of', 'as_of.as_of_date', window_months) }}
    {%- endif %}
    union
    -- documents in a currency whose rate changed on a day both runs see (none when the rates only grew)
    {{ changed_fx_customers(stored, stored_fx) }}
    {%- else %}
    select customer_id from {{ fingerprints }}
    union
    select customer_id from {{ model }}
    {%- endif %}
{%- endmacro %}

{#- Customers with an invoice or payment in a currency whose past rate changed (changed_fx_currencies). -#}
{% macro changed_fx_customers(stored, stored_fx) -%}
    select documents.customer_id
    from (
        select customer_id, currency from {{ ref('stg_invoices') }}
        union all
        select customer_id, currency from {{ ref('stg_payments') }}
    ) as documents
    inner join ({{ changed_fx_currencies(stored, stored_fx) }}) as changed_fx
        on documents.currency = changed_fx.currency
{%- endmacro %}

{#- Currencies whose daily rate differs, on a day on or before both as-of dates, from the rates stored at the
    previous run (a rate corrected, added or removed). A changed base currency restates everyone through the
    stored fingerprints' `base_currency`. -#}
{% macro changed_fx_currencies(stored, stored_fx) -%}
    select distinct coalesce(current_rates.currency, previous_rates.currency) as currency
    from (
        select rates.currency, rates.rate_day, rates.rate_to_base
        from {{ ref('stg_fx_rates_daily') }} as rates
        cross join {{ ref('int_as_of_date') }} as as_of
        where rates.rate_day <= as_of.as_of_date
    ) as current_rates
    full outer join (
        select previous_fx.currency, previous_fx.rate_day, previous_fx.rate_to_base
        from {{ stored_fx }} as previous_fx
        cross join {{ ref('int_as_of_date') }} as as_of
        where previous_fx.rate_day <= as_of.as_of_date
    ) as previous_rates
        on current_rates.currency = previous_rates.currency
       and current_rates.rate_day = previous_rates.rate_day
    cross join (select max(built_as_of) as previous_as_of from {{ stored }}) as previous_run
    where coalesce(current_rates.rate_day, previous_rates.rate_day) <= previous_run.previous_as_of
      and current_rates.rate_to_base is distinct from previous_rates.rate_to_base
{%- endmacro %}

{#- The latest month end on or before the date expression `day`. -#}
{% macro latest_month_end(day) -%}
    cast({{ dbt.dateadd('day', -1, dbt.date_trunc('month', dbt.dateadd('day', 1, day))) }} as date)
{%- endmacro %}

{#- True when a month-end model must recompute everyone between as-of dates `before` and `after`: the latest
    month end on or before the as-of date changed (one passed, or the as-of date moved back past one). With
    `window_months` (mart_risk_features' observation window: month ends after the as-of date minus that many
    months) also when the window's oldest month end moved back, which brings back a month end already
    deleted; when it moves forward (with 18 months, on the 30th of October 2025-04-30 leaves), the model only
    deletes the month end that left (its post-hook), the other rows do not change. Month ends are
    consecutive, so each bound is fixed by the latest month end on or before it. -#}
{% macro month_ends_changed(before, after, window_months=none) -%}
    ({{ latest_month_end(before) }} <> {{ latest_month_end(after) }}
    {%- if window_months is not none %}
     or {{ latest_month_end(dbt.dateadd('month', -window_months, after)) }}
        < {{ latest_month_end(dbt.dateadd('month', -window_months, before)) }}
    {%- endif -%}
    )
{%- endmacro %}

{#- post-hooks of a per-customer incremental model: keep the fingerprints, the as-of date and the daily FX rates
    (up to that date) this run was built from; one statement each (drop, create), as every engine takes them -#}
{% macro drop_companion(model, suffix) -%}
    {%- if target.type != 'spark' -%}
    drop table if exists {{ companion_relation(model, suffix) }}
    {%- endif -%}
{%- endmacro %}

{% macro store_fingerprints(model) -%}
    {%- if target.type != 'spark' -%}
    create table {{ companion_relation(model, 'fingerprints') }} as
    select fingerprints.customer_id, fingerprints.document_fingerprint, fingerprints.document_fingerprint_to_month_end,
           fingerprints.contact_fingerprint, fingerprints.contact_fingerprint_to_month_end,
           fingerprints.customer_fingerprint, as_of.as_of_date as built_as_of,
           '{{ var("base_currency") }}' as base_currency
    from {{ ref('int_customer_fingerprints') }} as fingerprints
    cross join {{ ref('int_as_of_date') }} as as_of
    {%- endif -%}
{%- endmacro %}

{% macro store_fx_rates(model) -%}
    {%- if target.type != 'spark' -%}
    create table {{ companion_relation(model, 'fx_rates') }} as
    select rates.currency, rates.rate_day, rates.rate_to_base
    from {{ ref('stg_fx_rates_daily') }} as rates
    cross join {{ ref('int_as_of_date') }} as as_of
    where rates.rate_day <= as_of.as_of_date
    {%- endif -%}
{%- endmacro %}

{#- pre-hooks of a per-customer incremental model: the customers this run restates, once, in
    `<model>__restated` (read by the delete and by the body, restated_cte); dropped on a full refresh -#}
{% macro restated_pre_hooks(monthly=false, window_months=none, upstream=none) -%}
    {#- the models the hooks read (restated_customers, store_fingerprints, store_fx_rates): called here, while the
        model is parsed, these refs make them the model's parents, so no model lists them itself -#}
    {%- for parent in ['stg_invoices', 'stg_payments', 'stg_fx_rates_daily', 'int_as_of_date',
                       'int_customer_fingerprints'] %}{% do ref(parent) %}{% endfor -%}
    {{ return([
        "{{ drop_companion(this, 'restated') }}",
        "{{ drop_companion(this, 'written') }}",
        "{% if is_incremental() %}create table {{ companion_relation(this, 'restated') }} as select distinct customer_id "
        ~ "from ({{ restated_customers(this, " ~ (monthly | string | lower) ~ ", "
        ~ (window_months if window_months is not none else 'none') ~ ", "
        ~ (("'" ~ upstream ~ "'") if upstream else 'none') ~ ") }}) as changed{% endif %}",
        "{% if is_incremental() and lacks_documented_columns(this) %}{{ emptied_for_new_columns(this) }}"
        ~ "{% elif is_incremental() %}delete from {{ this }} where customer_id in "
        ~ "(select customer_id from {{ companion_relation(this, 'restated') }}){% endif %}",
    ]) }}
{%- endmacro %}

{% macro restated_post_hooks() -%}
    {{ return(["{{ drop_companion(this, 'fingerprints') }}", "{{ store_fingerprints(this) }}",
               "{{ drop_companion(this, 'fx_rates') }}", "{{ store_fx_rates(this) }}"]) }}
{%- endmacro %}

{#- The config of a per-customer incremental model: delete the restated customers (pre-hook), append their
    recomputation, store the fingerprints (post-hooks); a table rebuilt in full on Spark. `monthly`: a
    month-end model, which also reads the contact log and the customer record, and changes for everyone when
    a month end passes (restated_customers); `upstream`: the per-customer model whose restated customers it
    restates too (chained_restated), `chain_runs`: keep this model's runs for a model downstream that does
    (run_chain_post_hooks); `sliced`: a full build on DuckDB computes it one range of customers at a time
    (macros/slices.sql). -#}
{% macro per_customer_incremental(monthly=false, window_months=none, post_hook=[], upstream=none,
                                  chain_runs=false, sliced=false) -%}
    {{ return({
        'materialized': 'table' if target.type == 'spark' else 'incremental',
        'incremental_strategy': 'restate',
        'on_schema_change': 'append_new_columns',
        'pre_hook': restated_pre_hooks(monthly, window_months, upstream),
        'post_hook': (['{{ insert_customer_slices() }}'] if sliced else []) + post_hook + restated_post_hooks()
                     + (chained_run_post_hooks(upstream, 'upstream_run') if upstream else [])
                     + (run_chain_post_hooks() if chain_runs else []),
        'meta': {'restates_customers': true, 'sliced_full_build': sliced},
    }) }}
{%- endmacro %}

{#- The incremental strategy of the per-customer models (`incremental_strategy='restate'`): append the rows the
    body computed (their restated customers' rows were deleted by a pre-hook), keeping a copy of them in
    `intermediate.<model>__written`: the rows this run wrote, which its data tests read
    (macros/tests/scoped_tests.sql). Reading them back from the model's table with `customer_id in (restated)`
    reads every row of the table: the semi-join cannot skip any part of it, as the restated customers are
    spread over all of it (at 1,000,000 customers, the column test of int_invoice_settlement: 6.7 s that way
    and 6.3 s unscoped, alone; 8.9 s -> 0.8 s in the benchmark's daily run). The copy costs one more write of
    those rows (3.5 s for int_invoice_settlement's 3.6 million in that run). `__written` is dropped before
    every run (pre-hook), so a full refresh, which does not call a strategy, leaves none and its tests read
    everything. -#}
{% macro get_incremental_restate_sql(arg_dict) -%}
    {{ return(append_through_copy(arg_dict, companion_relation(arg_dict['target_relation'], 'written'))) }}
{%- endmacro %}

{#- Append the rows of an incremental run (`arg_dict`, as dbt gives a strategy) through a copy of them written to
    `written` first: the model's table gets them from the copy. Used by the strategies that keep the rows a run
    wrote for its tests (restate here, staged_append in macros/staging_delta.sql). -#}
{% macro append_through_copy(arg_dict, written) -%}
    {%- do run_query('create table ' ~ written ~ ' as select * from ' ~ arg_dict['temp_relation']) -%}
    {%- set append_args = {} -%}
    {%- do append_args.update(arg_dict) -%}
    {%- do append_args.update({'temp_relation': written}) -%}
    {{ return(get_incremental_append_sql(append_args)) }}
{%- endmacro %}

{#- In such a model: `where customer_id in (the restated customers)` on an incremental run; on a full build, the
    first range of customers when the build is cut into ranges (customer_slice, macros/slices.sql), nothing
    otherwise. The model defines the CTE `restated` (restated_cte()). -#}
{% macro only_restated(keyword='where') -%}
    {%- if is_incremental() %} {{ keyword }} customer_id in (select customer_id from restated)
    {%- else %}{{ customer_slice(keyword) }}{% endif -%}
{%- endmacro %}

{% macro restated_cte() -%}
    {%- if is_incremental() %}

-- the customers this incremental run recomputes, found once by the pre-hooks (all of them on a full refresh)
restated as (select customer_id from {{ companion_relation(this, 'restated') }}),
    {%- endif %}
{%- endmacro %}

{#- The config of a run log (fct_overdue_type_snapshots, fct_strategy_assignments): what each run judged on its
    as-of date, appended per run, that day's rows replaced by a second run on the same date, and never rebuilt
    from scratch (a build cannot know what earlier runs said). The unique key is one column, not a list: with a
    list dbt-duckdb deletes through `delete ... using <the new rows>`, a join of every stored row of the date to
    every new one (a second run on one date at 1,000,000 customers had not finished after ten minutes); with
    one column, through `where as_of_date in (select as_of_date from <the new rows>)`. -#}
{% macro run_log_config() -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'insert_overwrite' if target.type == 'spark' else 'delete+insert',
        'unique_key': 'as_of_date',
        'partition_by': (['as_of_date'] if target.type == 'spark' else none),
        'full_refresh': false,
    }) }}
{%- endmacro %}
