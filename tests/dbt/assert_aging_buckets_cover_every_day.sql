{{ config(severity='error') }}
/*
    seeds/aging_buckets.csv covers every DPD exactly once: ordered by bucket_order, the first bucket starts at 0 days,
    each next bucket starts the day after the previous one ends, max >= min, and only the last bucket is open-ended.
    If this fails, some invoices fall in no bucket (null aging_bucket, bucket columns that do not add up to the
    outstanding amount) or in an ambiguous one; fix the seed.
*/

with

buckets as (select * from {{ ref('aging_buckets') }}),

ordered as (
    select
        bucket_order,
        bucket_code,
        min_days_past_due,
        max_days_past_due,
        lag(max_days_past_due) over (order by bucket_order) as previous_max,
        row_number() over (order by bucket_order) as position,
        count(*) over () as bucket_count
    from buckets
)

select *
from ordered
where (position = 1 and min_days_past_due <> 0)
   or (position > 1 and (previous_max is null or min_days_past_due <> previous_max + 1))
   or (max_days_past_due is not null and max_days_past_due < min_days_past_due)
   or (position < bucket_count and max_days_past_due is null)
   or (position = bucket_count and max_days_past_due is not null)
