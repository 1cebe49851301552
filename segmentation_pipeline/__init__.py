"""Daily customer-segmentation pipeline: Dagster + DuckDB + Polars + Pandera."""
