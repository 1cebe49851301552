-- Record (or re-record) this run's landing files in the manifest, all at once: a file seen before
-- loses its old row (delete then insert, not INSERT OR REPLACE: DuckLake tables have no key).
DELETE FROM ops.landing_files
WHERE (source, file) IN (SELECT source, file FROM _landing_outcomes);
INSERT INTO ops.landing_files BY NAME SELECT * FROM _landing_outcomes;
