{#-
    Which customers' stored history a daily run recomputes (fct_customer_aging_history; docs/decisions.md,
    "History restates a customer only when its past moved").

    The generic rule (macros/restated.sql) finds the customers whose documents, fingerprints or rates changed
    since the previous run: `<model>__candidates`. Most of them only have a document dated after the previous
    as-of date (today's invoice or payment). Such a document reaches the snapshot dates after the previous
    as-of date only, which this run computes for every customer anyway, unless it moved money the allocation
    had already applied on or before that date (the allocation is laid out as of the as-of date, so a payment
    linked today to the oldest invoice, or a new invoice due before an open one, can move earlier pieces).

    A customer's history at a snapshot date s depends only on: its posted invoices issued on or before s
    (id, dates, amount, currency; int_invoice_settlement), the money applied to them on or before s
    (int_payment_allocation, which also fixes the first-allocation and settled dates up to s), and the daily FX
    rates. So each run stores, per customer, a hash of those rows up to its as-of date (`<model>__state`); the
    next run compares it with the same hash of the current rows up to the previous as-of date. A candidate is
    recomputed in full (`<model>__restated`) unless the hashes are equal, the as-of date did not move back, the
    base currency is the same and none of its documents is in a currency whose past rate changed. Everyone else
    gets the new snapshot dates only (`<model>__new_dates`). Without a stored state (a full refresh, or a
    warehouse built before it existed) every candidate is recomputed. The daily-loads equality tests prove the
    result equals a full refresh.
-#}

{#- per customer: a hash of the invoice rows issued and the allocation rows dated on or before the as-of date
    (`state_hash`); with `before_expr`, also on or before that date (`state_before`); only the customers of
    the query `customers` (selecting customer_id) unless it is none, read through rows_of_customers
    (macros/restated.sql). One pass over both tables. -#}
{% macro history_state(customers=none, before_expr=none) -%}
    {%- set as_of_expr = '(select as_of_date from ' ~ ref('int_as_of_date') ~ ')' %}
    select customer_id,
           {%- if before_expr is not none %}
           bit_xor(case when row_date <= {{ before_expr }} then row_hash end) as state_before,
           {%- endif %}
           bit_xor(row_hash) as state_hash
    from (
        select customer_id, invoice_date as row_date,
               {{ row_hash(["'invoice'", 'invoice_id', 'invoice_date', 'due_date', 'amount', 'currency']) }} as row_hash
        from {{ ref('int_invoice_settlement') if customers is none
                else rows_of_customers(ref('int_invoice_settlement'), customers,
                                       ['customer_id', 'invoice_id', 'invoice_date', 'due_date', 'amount',
                                        'currency']) ~ ' as settlement' }}
        where invoice_date <= {{ as_of_expr }}
        union all
        select customer_id, allocation_date as row_date,
               {{ row_hash(["'allocation'", 'invoice_id', 'source_type', 'source_id', 'allocation_date',
                            'allocated_amount']) }} as row_hash
        from {{ ref('int_payment_allocation') if customers is none
                else rows_of_customers(ref('int_payment_allocation'), customers,
                                       ['customer_id', 'invoice_id', 'source_type', 'source_id',
                                        'allocation_date', 'allocated_amount']) ~ ' as allocation' }}
        where allocation_date <= {{ as_of_expr }}
    ) as state_rows
    group by customer_id
{%- endmacro %}

{#- the candidates' states now and up to the previous as-of date (the candidates are a table first: as a CTE
    the generic rule was evaluated inside both scans, four times the cost at 100,000 customers) -#}
{% macro history_candidate_states(model) -%}
    {%- set stored = companion_relation(model, 'fingerprints') -%}
    {{ history_state('select customer_id from ' ~ companion_relation(model, 'candidates'),
                     '(select max(built_as_of) from ' ~ stored ~ ')' if relation_exists(stored) else 'null') }}
{%- endmacro %}

{#- the candidates whose stored history up to the previous as-of date still holds (see above) -#}
{% macro history_unchanged_candidates(model) -%}
    {%- set stored = companion_relation(model, 'fingerprints') -%}
    {%- set stored_fx = companion_relation(model, 'fx_rates') -%}
    {%- set state = companion_relation(model, 'state') -%}
    select candidates.customer_id
    from {{ companion_relation(model, 'candidate_states') }} as candidates
    inner join {{ state }} as stored_state
        on candidates.customer_id = stored_state.customer_id
       and candidates.state_before = stored_state.state_hash
    cross join (select max(built_as_of) as previous_as_of, max(base_currency) as base_currency
                from {{ stored }}) as previous_run
    cross join {{ ref('int_as_of_date') }} as as_of
    where as_of.as_of_date >= previous_run.previous_as_of
      and previous_run.base_currency = '{{ var("base_currency") }}'
      and candidates.customer_id not in ({{ changed_fx_customers(stored, stored_fx) }})
{%- endmacro %}

{#- pre-hooks: the candidates (the generic rule) and their states, the customers recomputed in full, the
    snapshot dates not stored yet; then the recomputed customers' rows are deleted. Dropped and not recreated
    on a full refresh. -#}
{% macro history_pre_hooks() -%}
    {%- for parent in ['stg_invoices', 'stg_payments', 'stg_fx_rates_daily', 'int_as_of_date',
                       'int_customer_fingerprints', 'int_invoice_settlement', 'int_payment_allocation',
                       'int_snapshot_dates'] %}{% do ref(parent) %}{% endfor -%}
    {{ return([
        "{{ drop_companion(this, 'candidates') }}",
        "{{ drop_companion(this, 'candidate_states') }}",
        "{{ drop_companion(this, 'restated') }}",
        "{{ drop_companion(this, 'new_dates') }}",
        "{{ drop_companion(this, 'written') }}",
        "{% if is_incremental() %}create table {{ companion_relation(this, 'candidates') }} as select distinct "
        ~ "customer_id from ({{ restated_customers(this) }}) as changed{% endif %}",
        "{% if is_incremental() %}create table {{ companion_relation(this, 'candidate_states') }} as "
        ~ "{{ history_candidate_states(this) }}{% endif %}",
        "{% if is_incremental() %}create table {{ companion_relation(this, 'restated') }} as select customer_id "
        ~ "from {{ companion_relation(this, 'candidates') }}"
        ~ "{% if relation_exists(companion_relation(this, 'state')) and relation_exists(companion_relation(this, 'fingerprints')) %}"
        ~ " where customer_id not in ({{ history_unchanged_candidates(this) }}){% endif %}{% endif %}",
        "{% if is_incremental() %}create table {{ companion_relation(this, 'new_dates') }} as select snapshot_date "
        ~ "from {{ ref('int_snapshot_dates') }} where snapshot_date not in (select snapshot_date from {{ this }}){% endif %}",
        "{% if is_incremental() %}delete from {{ this }} where customer_id in "
        ~ "(select customer_id from {{ companion_relation(this, 'restated') }}){% endif %}",
    ]) }}
{%- endmacro %}

{#- post-hooks: the state this run was built from: on an incremental run the stored one with the candidates'
    states (computed by the pre-hook; every other customer's invoices and allocation up to the as-of date are
    those it had), for everyone otherwise; built beside the stored one, then swapped in (one statement each) -#}
{% macro history_post_hooks() -%}
    {{ return([
        "{{ drop_companion(this, 'state_next') }}",
        "{% if target.type != 'spark' %}{% set state = companion_relation(this, 'state') %}"
        ~ "{% set candidates = companion_relation(this, 'candidates') %}"
        ~ "create table {{ companion_relation(this, 'state_next') }} as "
        ~ "{% if is_incremental() and relation_exists(state) %}"
        ~ "select customer_id, state_hash from {{ state }} where customer_id not in (select customer_id from {{ candidates }}) "
        ~ "union all select customer_id, state_hash from {{ companion_relation(this, 'candidate_states') }}"
        ~ "{% else %}{{ history_state() }}{% endif %}{% endif %}",
        "{{ drop_companion(this, 'state') }}",
        "{% if target.type != 'spark' %}alter table {{ companion_relation(this, 'state_next') }} rename to "
        ~ "{{ companion_relation(this, 'state').identifier }}{% endif %}",
    ] + restated_post_hooks() + run_chain_post_hooks()) }}
{%- endmacro %}

{#- post-hooks: this run's dbt invocation and the previous one's, in `<model>__run`, so a model that reads
    `<model>__restated` (fct_overdue_monitoring) can tell that it saw every run of this model. `companion`: the
    macro that names the model's companion tables (companion_relation, in the intermediate schema;
    staging_companion for a staging model, whose hooks cannot ref the intermediate models). -#}
{% macro run_chain_post_hooks(companion='companion_relation') -%}
    {%- set run_next = companion ~ "(this, 'run_next')" -%}
    {%- set run = companion ~ "(this, 'run')" -%}
    {{ return([
        "{% if target.type != 'spark' %}drop table if exists {{ " ~ run_next ~ " }}{% endif %}",
        "{% if target.type != 'spark' %}create table {{ " ~ run_next ~ " }} as select "
        ~ "cast('{{ invocation_id }}' as {{ dbt.type_string() }}) as invocation_id, "
        ~ "{% if relation_exists(" ~ run ~ ") %}(select max(invocation_id) from "
        ~ "{{ " ~ run ~ " }}){% else %}cast(null as {{ dbt.type_string() }}){% endif %} "
        ~ "as previous_invocation_id{% endif %}",
        "{% if target.type != 'spark' %}drop table if exists {{ " ~ run ~ " }}{% endif %}",
        "{% if target.type != 'spark' %}alter table {{ " ~ run_next ~ " }} rename to "
        ~ "{{ " ~ run ~ ".identifier }}{% endif %}",
    ]) }}
{%- endmacro %}
