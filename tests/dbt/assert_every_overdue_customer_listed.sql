{{ config(severity='error') }}
/*
    Every customer overdue in fct_customer_aging (is_overdue) is on the overdue list exactly once - in
    mart_overdue_customers with exactly one type, non-empty reason codes that all belong to that type's evidence
    (or the single code no_specific_evidence), and in mart_collection_strategy (list_type overdue) exactly once with
    a strategy_code; nobody who is not overdue is on the overdue list, and no overdue customer is on the watch list.
    If this fails, an overdue customer would be missed by collectors, listed twice, shown without a reason, or
    given no strategy (e.g. a type x risk band missing from seeds/strategy_catalog.csv, or an inner join that drops
    customers without a score).
*/

with

aging as (select customer_id, is_overdue from {{ ref('fct_customer_aging') }}),

overdue_list as (select * from {{ ref('mart_overdue_customers') }}),

strategy as (select * from {{ ref('mart_collection_strategy') }}),

watchlist as (select customer_id from {{ ref('mart_watchlist') }}),

weights as (select overdue_type, evidence_code from {{ ref('classification_weights') }}),

listed as (
    select
        customer_id,
        count(*) as listed_rows,
        sum(case when reason_codes is null or trim(reason_codes) = '' then 1 else 0 end) as rows_without_reasons,
        sum(case when overdue_type is null then 1 else 0 end) as rows_without_type
    from overdue_list
    group by customer_id
),

strategised as (
    select
        customer_id,
        count(*) as strategy_rows,
        sum(case when strategy_code is null then 1 else 0 end) as rows_without_strategy
    from strategy
    where list_type = 'overdue'
    group by customer_id
),

reason_check as (
    select
        overdue_list.customer_id,
        overdue_list.reason_codes,
        length(overdue_list.reason_codes) - length(replace(overdue_list.reason_codes, ';', '')) + 1 as listed_codes,
        count(weights.evidence_code) as known_codes
    from overdue_list
    left join weights
        on weights.overdue_type = overdue_list.overdue_type
       and concat(';', overdue_list.reason_codes, ';') like concat('%;', weights.evidence_code, ';%')
    where overdue_list.reason_codes <> 'no_specific_evidence'
    group by overdue_list.customer_id, overdue_list.reason_codes
),

failures as (
    select aging.customer_id, 'overdue but not exactly once on mart_overdue_customers' as problem
    from aging
    left join listed on aging.customer_id = listed.customer_id
    where aging.is_overdue and coalesce(listed.listed_rows, 0) <> 1

    union all

    select listed.customer_id, 'on mart_overdue_customers without a type or reasons' as problem
    from listed
    where listed.rows_without_reasons > 0 or listed.rows_without_type > 0

    union all

    select listed.customer_id, 'on mart_overdue_customers but not overdue' as problem
    from listed
    left join aging on listed.customer_id = aging.customer_id
    where not coalesce(aging.is_overdue, false)

    union all

    select aging.customer_id, 'overdue but not exactly once in mart_collection_strategy with a strategy' as problem
    from aging
    left join strategised on aging.customer_id = strategised.customer_id
    where aging.is_overdue
      and (coalesce(strategised.strategy_rows, 0) <> 1 or strategised.rows_without_strategy > 0)

    union all

    select strategised.customer_id, 'overdue strategy for a customer that is not overdue' as problem
    from strategised
    left join aging on strategised.customer_id = aging.customer_id
    where not coalesce(aging.is_overdue, false)

    union all

    select watchlist.customer_id, 'overdue customer on the watch list' as problem
    from watchlist
    inner join aging on watchlist.customer_id = aging.customer_id
    where aging.is_overdue

    union all

    select reason_check.customer_id, concat('reason codes not all evidence of the type: ', reason_check.reason_codes) as problem
    from reason_check
    where reason_check.known_codes <> reason_check.listed_codes
)

select * from failures
