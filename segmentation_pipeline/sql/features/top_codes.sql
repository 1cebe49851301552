-- Per customer and key (category, brand): the code with the most completed revenue, and that
-- revenue; the largest revenue wins, then the smallest code (the alphabetically first name).
-- Both keys in one result (split by `key` in Polars); the analysis date is bound twice.
WITH revenue_by_code AS (
    SELECT customer_id, 'category' AS key, category_code AS code, sum(c_revenue) AS revenue
    FROM _order_lines(?)
    WHERE is_completed AND category_code IS NOT NULL
    GROUP BY customer_id, category_code
    UNION ALL
    SELECT customer_id, 'brand' AS key, brand_code AS code, sum(c_revenue) AS revenue
    FROM _order_lines(?)
    WHERE is_completed AND brand_code IS NOT NULL
    GROUP BY customer_id, brand_code
)
SELECT
    key,
    customer_id,
    arg_max(code, (revenue, -CAST(code AS BIGINT))) AS top_code,
    max(revenue) AS top_revenue
FROM revenue_by_code
GROUP BY key, customer_id
