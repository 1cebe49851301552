-- The customer master as of the analysis date: the latest version per customer_id (latest
-- updated_at wins; a tie goes to the later file), ignoring versions produced after the date.
SELECT * EXCLUDE (_source_file, _row_number, _landing_date, _loaded_at, email, full_name)
FROM staging.customers
WHERE updated_at < CAST(? AS DATE) + INTERVAL 1 DAY
QUALIFY row_number() OVER (
    PARTITION BY customer_id ORDER BY updated_at DESC, _landing_date DESC, _source_file DESC, _row_number DESC
) = 1
