"""Polars schemas of the written tables, from their contracts (for code that builds a table's frame)."""

import polars as pl

from segmentation_pipeline.contracts.tables import TableContract

POLARS_TYPES: dict[str, pl.DataType] = {
    "VARCHAR": pl.String(),
    "BOOLEAN": pl.Boolean(),
    "TINYINT": pl.Int8(),
    "INTEGER": pl.Int32(),
    "BIGINT": pl.Int64(),
    "DOUBLE": pl.Float64(),
    "DATE": pl.Date(),
    "TIMESTAMP": pl.Datetime("us"),
}


def polars_schema(contract: TableContract) -> dict[str, pl.DataType]:
    """Column → Polars type, in the contract's order."""
    return {c.name: POLARS_TYPES[c.type] for c in contract.columns}
