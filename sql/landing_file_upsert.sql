-- Record (or re-record) one landing file's outcome in the manifest.
INSERT OR REPLACE INTO ops.landing_files
    (source, file, landing_date, size_bytes, mtime_ns, checksum, status, error,
     rows_received, rows_loaded, rows_quarantined, as_of_date, loaded_at, run_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);
