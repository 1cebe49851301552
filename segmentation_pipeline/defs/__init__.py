"""Thin Dagster assets, one module per layer: read inputs, call the logic, write, attach metadata."""
