-- The customers whose features may differ from the previous build's, into the temporary table
-- _delta_customers (refresh.DELTA_TABLE): a row loaded since that build ($since), or an event,
-- update or signup whose day has come into view (after the previous analysis date $previous, on or
-- before $as_of), or an order of a product that changed. Every staging table is read: a source
-- absent from both builds has no rows, and one that appeared or vanished since makes a full build.
CREATE OR REPLACE TEMP TABLE _delta_customers AS
WITH changes AS (
    SELECT customer_id, _loaded_at, ordered_at AS happened_at FROM staging.orders
    UNION ALL SELECT customer_id, _loaded_at, submitted_at FROM staging.surveys
    UNION ALL SELECT customer_id, _loaded_at, observed_at FROM staging.social
    UNION ALL SELECT customer_id, _loaded_at, opened_at FROM staging.service
    UNION ALL SELECT customer_id, _loaded_at, updated_at FROM staging.customers
    UNION ALL SELECT customer_id, _loaded_at, signup_date FROM staging.customers
),
changed_products AS (
    SELECT product_id FROM staging.products
    WHERE _loaded_at > $since
       OR (updated_at >= CAST($previous AS DATE) + INTERVAL 1 DAY AND updated_at < CAST($as_of AS DATE) + INTERVAL 1 DAY)
)
SELECT DISTINCT customer_id FROM (
    SELECT customer_id FROM changes
    WHERE _loaded_at > $since
       OR (happened_at >= CAST($previous AS DATE) + INTERVAL 1 DAY AND happened_at < CAST($as_of AS DATE) + INTERVAL 1 DAY)
    UNION ALL
    SELECT customer_id FROM staging.orders WHERE product_id IN (SELECT product_id FROM changed_products)
)
WHERE customer_id IS NOT NULL
