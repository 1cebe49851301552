"""Landing files → validated DuckDB staging tables plus quarantine (readers, parsing, manifest)."""
