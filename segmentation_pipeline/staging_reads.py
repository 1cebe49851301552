"""Reading validated staging tables into Polars, as of the analysis date, without personal data."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from segmentation_pipeline.contracts import SOURCES
from segmentation_pipeline.contracts.models import LANDING_DATE
from segmentation_pipeline.ingest.load import LOADED_AT, staging_table
from segmentation_pipeline.ingest.readers import ROW_NUMBER
from segmentation_pipeline.ingest.validate import SOURCE_FILE
from segmentation_pipeline.warehouse import query_frame, read_sql, table_exists

LINEAGE = (SOURCE_FILE, ROW_NUMBER, LANDING_DATE, LOADED_AT)


def read_staging(conn: duckdb.DuckDBPyConnection, source: str, as_of: dt.date) -> pl.DataFrame | None:
    """The source's usable rows as of `as_of`, or None when the source has never delivered a row.

    Customers and products are reduced to their latest version per id; personal columns are
    left behind (they never leave staging). Event sources keep every row: the features decide
    what "after the analysis date" means for each of them.
    """
    table = staging_table(source)
    if not table_exists(conn, table) or conn.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0] == 0:
        return None
    if source in ("customers", "products"):
        return query_frame(conn, read_sql(f"{source}_current"), [as_of])
    contract = SOURCES[source]
    columns = ", ".join(f'"{c}"' for c in contract.columns if c not in contract.personal)
    return query_frame(conn, f"SELECT {columns} FROM {table}")
