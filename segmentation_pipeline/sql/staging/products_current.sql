-- The product catalogue as of the analysis date: the latest version per product_id (same rule
-- as customers_current.sql: latest updated_at, then landing date, file and row).
SELECT * EXCLUDE (_source_file, _row_number, _landing_date, _loaded_at)
FROM staging.products
WHERE rowid IN (
    SELECT arg_max(rowid, (updated_at, _landing_date IS NOT NULL, _landing_date, _source_file, _row_number))
    FROM staging.products
    WHERE updated_at < CAST(? AS DATE) + INTERVAL 1 DAY
    GROUP BY product_id
)
