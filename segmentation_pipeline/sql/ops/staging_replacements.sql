-- Staging rows removed because their landing file was landed again with other content. The
-- feature refresh reads it: after a replacement the removed rows' customers are unknown, so the
-- next build recomputes every customer.
CREATE TABLE IF NOT EXISTS ops.staging_replacements (
    source        VARCHAR NOT NULL,
    rows_removed  BIGINT NOT NULL,
    replaced_at   TIMESTAMP NOT NULL,  -- the load's time, on the clock of staging's _loaded_at
    run_id        VARCHAR
);
