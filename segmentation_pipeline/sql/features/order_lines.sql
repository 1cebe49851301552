-- _order_lines(as_of): the order lines up to the analysis date, as the order facts read them.
-- A temporary table macro (inlined into each query that reads it, so nothing is materialised)
-- over _order_scope (staging.orders, or only the customers being recomputed) joined to the product
-- lookup (registered as _product_lookup). Amounts are completed-only (0 for other lines, so plain
-- sums give "completed lines only"); codes are small integers (a string per order costs far more
-- memory): channel_code is the channel's position in customer_features.ORDER_CHANNELS.
CREATE OR REPLACE TEMP MACRO _order_lines(as_of) AS TABLE
SELECT
    o.order_id,
    o.customer_id,
    o.ordered_at,
    p.category_code,
    p.brand_code,
    o.payment_days_late,
    o.status = 'completed' AS is_completed,
    o.status = 'returned' AS is_returned,
    o.status = 'cancelled' AS is_cancelled,
    o.occasion <> 'none' AS is_occasion,  -- null when the line records no occasion
    CAST(CASE o.channel WHEN 'store' THEN 1 WHEN 'phone' THEN 2 ELSE 0 END AS UTINYINT) AS channel_code,
    CASE WHEN o.status = 'completed' THEN coalesce(o.discount, 0) ELSE 0 END AS c_discount,
    CASE WHEN o.status = 'completed' THEN o.quantity * o.unit_price - coalesce(o.discount, 0) ELSE 0 END
        AS c_revenue,
    CASE WHEN o.status = 'completed' AND o.discount IS NOT NULL THEN o.quantity * o.unit_price ELSE 0 END
        AS c_gross_discount_known,
    -- NaN for an unknown product: the order's cost, hence margin, is then unknown.
    CASE WHEN o.status = 'completed' THEN o.quantity * coalesce(p.unit_cost, 'NaN'::DOUBLE) ELSE 0 END AS c_cost
FROM _order_scope AS o
LEFT JOIN _product_lookup AS p USING (product_id)
WHERE o.ordered_at < CAST(as_of AS DATE) + INTERVAL 1 DAY;
