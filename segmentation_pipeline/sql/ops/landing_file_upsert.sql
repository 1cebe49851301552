-- Record (or re-record) this run's landing files in the manifest, all at once.
INSERT OR REPLACE INTO ops.landing_files BY NAME SELECT * FROM _landing_outcomes;
