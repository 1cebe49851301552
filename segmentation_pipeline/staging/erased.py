"""Customers erased on request (ops.erased_customers): their rows are rejected at load without their values."""

from __future__ import annotations

import re

import duckdb
import polars as pl

from segmentation_pipeline.contracts.tables.ops import LANDING_DATE, ROW_NUMBER, SOURCE_FILE
from segmentation_pipeline.staging.validate import (
    QUARANTINE_ROW_SCHEMA,
)
from segmentation_pipeline.warehouse.tables import (
    query_frame,
    table_exists,
)

ERASED_RULE = "customer erased (right to be forgotten): values not kept"


def erased_ids(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    if not table_exists(conn, "ops.erased_customers"):
        return pl.DataFrame(schema={"customer_id": pl.String})
    return query_frame(conn, "SELECT customer_id FROM ops.erased_customers")


def scrub_erased(quarantine: pl.DataFrame, erased: pl.DataFrame) -> pl.DataFrame:
    """Bad rows of erased customers keep neither their values nor the rules those values broke."""
    if erased.height == 0 or quarantine.height == 0:
        return quarantine
    ids = erased["customer_id"].to_list()
    fields = "|".join(re.escape(i) for i in ids)
    raw = pl.col("raw_values")
    of_erased = raw.str.json_path_match("$.customer_id").str.strip_chars().is_in(
        ids
    ) | raw.str.json_path_match("$._line").str.contains(rf'(?:^|[,;"\s])(?:{fields})(?:$|[,;"\s])')
    return quarantine.with_columns(
        pl.when(of_erased.fill_null(False)).then(pl.lit(ERASED_RULE)).otherwise(pl.col("rule")).alias("rule"),
        pl.when(of_erased.fill_null(False)).then(pl.lit(None, pl.String)).otherwise(raw).alias("raw_values"),
    )


def erased_rows(good: pl.DataFrame, erased: pl.DataFrame) -> pl.DataFrame:
    """Rows of customers erased on request: rejected without keeping their values."""
    if "customer_id" not in good.columns or erased.height == 0:
        return pl.DataFrame(schema=QUARANTINE_ROW_SCHEMA)
    return good.join(erased, on="customer_id", how="semi").select(
        SOURCE_FILE,
        ROW_NUMBER,
        LANDING_DATE,
        pl.lit(ERASED_RULE).alias("rule"),
        pl.lit(None, pl.String).alias("raw_values"),
    )
