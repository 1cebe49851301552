-- marts.data_quality: row accounting per landing file (rows_received = rows_loaded + rows_quarantined),
-- with the rejections declared expected, the revenue of quarantined order lines, and the gate's hold.
CREATE OR REPLACE TABLE marts.data_quality AS
WITH quarantined_orders AS (
    -- What the quarantined lines would have brought (completed lines whose amounts parse).
    SELECT _source_file AS file,
           sum(try_cast(json_extract_string(raw_values, '$.quantity') AS DOUBLE)
               * try_cast(json_extract_string(raw_values, '$.unit_price') AS DOUBLE)
               - coalesce(try_cast(json_extract_string(raw_values, '$.discount') AS DOUBLE), 0))
               FILTER (WHERE trim(json_extract_string(raw_values, '$.status')) = 'completed') AS revenue
    FROM quarantine.orders
    WHERE raw_values IS NOT NULL
    GROUP BY ALL
)
SELECT
    m.as_of_date,
    m.source,
    m.file,
    m.landing_date,
    m.status,
    m.error,
    m.rows_received,
    m.rows_loaded,
    m.rows_quarantined,
    coalesce(m.rows_expected, 0) AS rows_expected,
    CASE WHEN m.rows_received > 0 THEN m.rows_quarantined::DOUBLE / m.rows_received END AS rejected_share,
    q.revenue AS quarantined_revenue,
    CASE WHEN h.file IS NULL THEN NULL WHEN h.accepted_at IS NULL THEN 'held' ELSE 'accepted' END AS gate,
    h.reason AS gate_reason,
    h.accepted_by,
    h.accepted_at,
    m.loaded_at
FROM ops.landing_files m
LEFT JOIN quarantined_orders q ON m.source = 'orders' AND q.file = m.file
LEFT JOIN ops.gate_holds h ON h.source = m.source AND h.file = m.file
ORDER BY m.source, m.landing_date, m.file;
