{{ config(severity='error') }}
/*
    Champion/challenger tests are well formed: no two tests of the same strategy run on the same day (a customer
    would have two arms), no test id is also a strategy code (ladders are keyed by either), and a challenger's
    own ladder (seeds/strategy_test_steps.csv) is numbered 1..n without gaps. One row per problem.
*/

with

tests as (select * from {{ ref('strategy_tests') }}),

test_steps as (select * from {{ ref('strategy_test_steps') }}),

catalog as (select * from {{ ref('strategy_catalog') }}),

overlapping as (
    select first_test.test_id, 'overlaps ' || second_test.test_id as problem
    from tests as first_test
    inner join tests as second_test
        on first_test.strategy_code = second_test.strategy_code
       and first_test.test_id < second_test.test_id
       and first_test.started_on <= coalesce(second_test.ended_on, cast('9999-12-31' as date))
       and second_test.started_on <= coalesce(first_test.ended_on, cast('9999-12-31' as date))
),

named_like_a_strategy as (
    select tests.test_id, 'is also a strategy code' as problem
    from tests
    inner join catalog on tests.test_id = catalog.strategy_code
),

gaps as (
    select test_id, 'steps not numbered 1..n' as problem
    from test_steps
    group by test_id
    having min(step_number) <> 1 or max(step_number) <> count(*)
),

ended_before_started as (
    select test_id, 'ends before it starts' as problem
    from tests
    where ended_on < started_on
)

select * from overlapping
union all
select * from named_like_a_strategy
union all
select * from gaps
union all
select * from ended_before_started
