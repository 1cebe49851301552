"""The staging and quarantine tables of a source, and the ops tables every load writes."""

from __future__ import annotations

import duckdb

from segmentation_pipeline.contracts import SourceContract
from segmentation_pipeline.contracts.tables import (
    GATE_HOLDS,
    LANDING_FILES,
    STAGING_REPLACEMENTS,
    quarantine_contract,
)
from segmentation_pipeline.contracts.tables.ops import LANDING_DATE, ROW_NUMBER, SOURCE_FILE
from segmentation_pipeline.warehouse.tables import (
    duckdb_type,
    ensure_table,
)

LOADED_AT = "_loaded_at"


def staging_table(source: str) -> str:
    return f"staging.{source}"


def quarantine_table(source: str) -> str:
    return f"quarantine.{source}"


def ensure_source_tables(conn: duckdb.DuckDBPyConnection, contract: SourceContract) -> None:
    """Typed staging table (contract columns + lineage) and quarantine table, if missing."""
    columns = [f'"{name}" {duckdb_type(dtype)}' for name, dtype in contract.columns.items()]
    columns += [f"{SOURCE_FILE} VARCHAR NOT NULL", f"{ROW_NUMBER} BIGINT NOT NULL", f"{LANDING_DATE} DATE"]
    columns += [f"{LOADED_AT} TIMESTAMP NOT NULL"]
    conn.execute(f"CREATE TABLE IF NOT EXISTS {staging_table(contract.name)} ({', '.join(columns)})")
    for table in (quarantine_contract(contract.name), LANDING_FILES, STAGING_REPLACEMENTS, GATE_HOLDS):
        ensure_table(conn, table)
