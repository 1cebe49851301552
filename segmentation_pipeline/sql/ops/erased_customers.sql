-- Customers erased on request (right to be forgotten). Their rows in later landing files are
-- rejected at load time without keeping their values, so they never come back.
CREATE TABLE IF NOT EXISTS ops.erased_customers (
    customer_id  VARCHAR NOT NULL,  -- once each, kept by erasure.py (DuckLake has no PRIMARY KEY)
    erased_at    TIMESTAMP NOT NULL
);
