-- One row per order up to the analysis date (bound), counted or not: the one group-by of order
-- lines by order (lines: order_lines.sql).
SELECT
    order_id,
    min(customer_id) AS customer_id,
    min(ordered_at) AS ordered_at,
    min(channel_code) AS channel_code,
    sum(c_revenue) AS revenue,
    sum(c_discount) AS discount,
    sum(c_gross_discount_known) AS gross_discount_known,
    sum(c_cost) AS cost,
    bool_or(is_occasion) AS is_occasion,
    CAST(count(*) AS INTEGER) AS n_lines,
    CAST(count(*) FILTER (is_returned) AS INTEGER) AS returned_lines,
    CAST(count(*) FILTER (is_cancelled) AS INTEGER) AS cancelled_lines,
    max(payment_days_late) AS days_late
FROM _order_lines(?)
GROUP BY order_id
