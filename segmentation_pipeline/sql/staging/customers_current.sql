-- The customer master as of the analysis date: the latest version per customer_id (latest
-- updated_at wins; a tie goes to the later landing date, a dated file before an undated one,
-- then to the later file and row), ignoring versions produced after the date.
-- arg_max per id picks the winning row without the window's sort of every version (less CPU:
-- benchmarks/README.md, "Figures behind the code"); `_landing_date IS NOT NULL` keeps the
-- window's NULLS LAST order.
SELECT * EXCLUDE (_source_file, _row_number, _landing_date, _loaded_at, email, full_name)
FROM staging.customers
WHERE rowid IN (
    SELECT arg_max(rowid, (updated_at, _landing_date IS NOT NULL, _landing_date, _source_file, _row_number))
    FROM staging.customers
    WHERE updated_at < CAST(? AS DATE) + INTERVAL 1 DAY
    GROUP BY customer_id
)
