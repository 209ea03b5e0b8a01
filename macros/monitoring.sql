{#-
    fct_overdue_monitoring's incremental pieces (the model says the rule). The check dates and their pairs are
    one definition, read by the model and by its pre-hook.
-#}

{#- the pairs of consecutive check dates of each type: monthly (month ends), weekly (Sundays of the last
    var history_weekly_weeks weeks), daily (the last var history_daily_days days) -#}
{% macro monitoring_check_pairs() -%}
    select
        check_type,
        lag(snapshot_date) over (partition by check_type order by snapshot_date) as previous_date,
        snapshot_date as check_date
    from (
        select 'monthly' as check_type, snapshot_date from {{ ref('int_snapshot_dates') }} where is_month_end
        union all
        select 'weekly' as check_type, snapshot_dates.snapshot_date
        from {{ ref('int_snapshot_dates') }} as snapshot_dates
        cross join {{ ref('int_as_of_date') }} as as_of
        where snapshot_dates.is_week_end
          and {{ days_between('snapshot_dates.snapshot_date', 'as_of.as_of_date') }} < 7 * {{ var('history_weekly_weeks') }}
        union all
        select 'daily' as check_type, snapshot_dates.snapshot_date
        from {{ ref('int_snapshot_dates') }} as snapshot_dates
        cross join {{ ref('int_as_of_date') }} as as_of
        where {{ days_between('snapshot_dates.snapshot_date', 'as_of.as_of_date') }} < {{ var('history_daily_days') }}
    ) as check_dates
{%- endmacro %}

{#- The history's record of the customers it restated, when this model can build on it (chained_restated,
    macros/restated.sql); none otherwise (a full refresh, the history rebuilt from scratch, or a run of either
    that failed): then everything is recomputed. -#}
{% macro monitoring_history_restated() -%}
    {{ return(chained_restated('fct_customer_aging_history', 'history_run')) }}
{%- endmacro %}

{#- In the model's pairs: every customer at a new pair, the history's restated customers at the others -#}
{% macro monitoring_scope(history_restated, keyword='where') -%}
    {%- if is_incremental() %}
    {{ keyword }} (pairs_to_build.is_new
    {%- if history_restated is not none %}
         or past_due.customer_id in (select customer_id from {{ history_restated }})
    {%- endif %})
    {%- endif %}
{%- endmacro %}

{#- Pre-hook: delete the restated customers' rows and the pairs no longer current; everything when the
    history was rebuilt from scratch in this run (no record of what it restated) -#}
{% macro monitoring_delete(model) -%}
    {%- set history_restated = monitoring_history_restated() -%}
    delete from {{ model }} as stored
    {%- if history_restated is not none %}
    where stored.customer_id in (select customer_id from {{ history_restated }})
       or not exists (
           select 1
           from ({{ monitoring_check_pairs() }}) as current_pairs
           where current_pairs.check_type = stored.check_type
             and current_pairs.check_date = stored.check_date
             and current_pairs.previous_date = stored.previous_date
       )
    {%- endif %}
{%- endmacro %}

{#- Post-hooks: the history run this model was built on (its invocation, from the history's `__run`) -#}
{% macro monitoring_post_hooks() -%}
    {{ return(chained_run_post_hooks('fct_customer_aging_history', 'history_run')) }}
{%- endmacro %}
