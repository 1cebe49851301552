"""Customer features computed with Polars from the staged sources."""
