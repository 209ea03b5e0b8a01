{{ config(severity='warn') }}
/*
    Data-quality concern (failure policy: warn, never stop): input rows set aside by staging, one row per input
    table and reason code, with the count and an example key. The rows are quarantined by design (the contract
    says a row that breaks a rule is set aside, counted and reported), so this test exists to put the count in
    run_results.json, the run summary and the docs: a warning, not a failure.
    The run stops on quarantined rows only through the delivery guard (share above --quarantine-tolerance, the
    GX staging suite) or when rows are lost (assert_raw_rows_conserved).
*/

with

quarantine as (select * from {{ ref('stg_quarantine') }}),

final as (
    select
        source_table,
        reason_code,
        count(*) as rows_set_aside,
        min(record_key) as example_key
    from quarantine
    group by source_table, reason_code
)

select * from final
