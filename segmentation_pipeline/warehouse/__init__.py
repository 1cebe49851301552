"""The warehouse: DuckDB file access (tables), the DuckLake connection (lake), the run lock."""
