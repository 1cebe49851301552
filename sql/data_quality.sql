-- marts.data_quality: row accounting per landing file (rows_received = rows_loaded + rows_quarantined).
CREATE OR REPLACE TABLE marts.data_quality AS
SELECT
    as_of_date,
    source,
    file,
    landing_date,
    status,
    error,
    rows_received,
    rows_loaded,
    rows_quarantined,
    CASE WHEN rows_received > 0 THEN rows_quarantined::DOUBLE / rows_received END AS rejected_share,
    loaded_at
FROM ops.landing_files
ORDER BY source, landing_date, file;
