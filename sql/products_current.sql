-- The product catalogue as of the analysis date: the latest version per product_id.
SELECT * EXCLUDE (_source_file, _row_number, _landing_date, _loaded_at)
FROM staging.products
WHERE updated_at < CAST(? AS DATE) + INTERVAL 1 DAY
QUALIFY row_number() OVER (
    PARTITION BY product_id ORDER BY updated_at DESC, _landing_date DESC, _source_file DESC, _row_number DESC
) = 1
