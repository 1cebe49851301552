-- What the feature tables were last built from (one row): the next build compares it with the
-- present to decide between refreshing only the customers whose inputs changed and a full build.
CREATE TABLE IF NOT EXISTS features.build_state (
    as_of_date             DATE NOT NULL,
    loaded_through         TIMESTAMP,         -- newest staging _loaded_at the build saw
    cost_per_effort_point  DOUBLE NOT NULL,
    present_sources        VARCHAR NOT NULL,  -- sources with rows, comma-separated
    code_fingerprint       VARCHAR NOT NULL,  -- of the feature code and SQL
    mode                   VARCHAR NOT NULL,  -- full | incremental
    reason                 VARCHAR NOT NULL,
    customers_recomputed   BIGINT NOT NULL,
    built_at               TIMESTAMP NOT NULL
);
