{#-
    Generic test: on every row, the aging bucket columns (bucket_<code>_base, one per row of
    seeds/aging_buckets.csv) add up to the column, to the cent. Fails with the rows where they do not: an amount
    fell in no bucket or in two (a gap or an overlap in the buckets seed, or a bucket column left out).
    A row-level check, so on a per-customer incremental model it reads what the run wrote
    (macros/tests/scoped_tests.sql), where the invariants across models (assert_aging_totals_and_buckets_agree)
    read everything.

    columns:
      - name: outstanding_base
        data_tests: [buckets_add_up]
-#}
{% test buckets_add_up(model, column_name) %}
-- depends_on: {{ ref('aging_buckets') }}
{{ test_equals_sum_of(model, column_name, [bucket_total()]) }}
{% endtest %}
