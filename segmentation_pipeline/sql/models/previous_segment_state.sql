-- Each customer's segments as they stood before the analysis date: the latest history row per
-- customer (history keeps a row only when a customer's segments change).
SELECT customer_id, as_of_date, segment_id, rfm_segment
FROM marts.segment_history
WHERE as_of_date < ?
QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY as_of_date DESC) = 1
