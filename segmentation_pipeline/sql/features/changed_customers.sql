-- The customers whose features may differ from the previous build's, into the temporary table
-- _delta_customers: a row loaded since that build ($since), or an event, update or signup whose
-- day has come into view (after the previous analysis date $previous, on or before $as_of), or an
-- order of a product that changed. Every staging table is read: a source absent from both builds
-- has no rows, and one that appeared or vanished since makes a full build (refresh.plan_refresh).
CREATE OR REPLACE TEMP TABLE _delta_customers AS
WITH products_changed AS (
    SELECT product_id FROM staging.products
    WHERE _loaded_at > $since
       OR (updated_at >= CAST($previous AS DATE) + INTERVAL 1 DAY AND updated_at < CAST($as_of AS DATE) + INTERVAL 1 DAY)
)
SELECT DISTINCT customer_id FROM (
    SELECT customer_id FROM staging.orders
    WHERE _loaded_at > $since
       OR (ordered_at >= CAST($previous AS DATE) + INTERVAL 1 DAY AND ordered_at < CAST($as_of AS DATE) + INTERVAL 1 DAY)
       OR product_id IN (SELECT product_id FROM products_changed)
    UNION ALL
    SELECT customer_id FROM staging.surveys
    WHERE _loaded_at > $since
       OR (submitted_at >= CAST($previous AS DATE) + INTERVAL 1 DAY AND submitted_at < CAST($as_of AS DATE) + INTERVAL 1 DAY)
    UNION ALL
    SELECT customer_id FROM staging.social
    WHERE _loaded_at > $since
       OR (observed_at >= CAST($previous AS DATE) + INTERVAL 1 DAY AND observed_at < CAST($as_of AS DATE) + INTERVAL 1 DAY)
    UNION ALL
    SELECT customer_id FROM staging.service
    WHERE _loaded_at > $since
       OR (opened_at >= CAST($previous AS DATE) + INTERVAL 1 DAY AND opened_at < CAST($as_of AS DATE) + INTERVAL 1 DAY)
    UNION ALL
    SELECT customer_id FROM staging.customers
    WHERE _loaded_at > $since
       OR (updated_at >= CAST($previous AS DATE) + INTERVAL 1 DAY AND updated_at < CAST($as_of AS DATE) + INTERVAL 1 DAY)
       OR (signup_date >= CAST($previous AS DATE) + INTERVAL 1 DAY AND signup_date < CAST($as_of AS DATE) + INTERVAL 1 DAY)
)
WHERE customer_id IS NOT NULL
