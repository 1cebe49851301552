-- The segment model's state, kept across runs (created once; each run replaces only its own date).
-- marts.segment_history and marts.segment_migrations accumulate too: created from their contracts.
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
