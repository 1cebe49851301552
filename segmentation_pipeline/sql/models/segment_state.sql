-- Segment tables that accumulate across runs (created once; each run replaces only its own date).
CREATE TABLE IF NOT EXISTS models.segment_model_state (
    as_of_date       DATE NOT NULL,
    fitted_at        VARCHAR,
    refitted         BOOLEAN,
    reason           VARCHAR,
    k                INTEGER,
    ari_vs_previous  DOUBLE,
    drift            DOUBLE,
    share_shift      DOUBLE,
    model_json       VARCHAR NOT NULL,
    recorded_at      TIMESTAMP
);
CREATE TABLE IF NOT EXISTS marts.segment_history (
    customer_id  VARCHAR NOT NULL,
    as_of_date   DATE NOT NULL,
    segment_id   BIGINT,
    rfm_segment  VARCHAR
);
CREATE TABLE IF NOT EXISTS marts.segment_migrations (
    as_of_date    DATE NOT NULL,
    kind          VARCHAR NOT NULL,
    from_segment  VARCHAR,
    to_segment    VARCHAR,
    customers     BIGINT,
    revenue       DOUBLE
);
