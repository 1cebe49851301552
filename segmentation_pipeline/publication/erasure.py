"""Right to be forgotten: remove customers from staging, quarantine, features, models, history and marts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from segmentation_pipeline.contracts.tables import ERASED_CUSTOMERS
from segmentation_pipeline.publication.snapshot import (
    SNAPSHOT_NAME,
    prune_all_but_current,
    publish_marts,
    remove_stale_copies,
)
from segmentation_pipeline.warehouse.tables import ensure_schemas, ensure_table, transaction


def _tables_with_customer_id(conn: duckdb.DuckDBPyConnection) -> list[str]:
    rows = conn.execute(
        """SELECT DISTINCT c.table_schema || '.' || c.table_name
           FROM information_schema.columns c JOIN information_schema.tables t
             ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
           WHERE c.column_name = 'customer_id' AND c.table_schema IN ('staging', 'features', 'models', 'marts')
           ORDER BY 1"""
    ).fetchall()
    return [row[0] for row in rows]


def _quarantine_tables(conn: duckdb.DuckDBPyConnection) -> list[str]:
    rows = conn.execute(
        "SELECT 'quarantine.' || table_name FROM information_schema.tables WHERE table_schema = 'quarantine' ORDER BY 1"
    ).fetchall()
    return [row[0] for row in rows]


# Quarantined rows keep raw values (personal data included): match on the raw customer_id, trimmed.
_RAW_CUSTOMER_ID = "trim(json_extract_string(raw_values, '$.customer_id'))"


def unknown_customers(conn: duckdb.DuckDBPyConnection, customer_ids: list[str]) -> list[str]:
    """The ids found in no table at all (a typo is reported, never recorded as 'erased')."""
    found: set[str] = set()
    for table in _tables_with_customer_id(conn):
        found |= {row[0] for row in conn.execute(
            f"SELECT DISTINCT customer_id FROM {table} WHERE customer_id IN (SELECT unnest(?::VARCHAR[]))", [customer_ids]
        ).fetchall()}  # fmt: skip
    for table in _quarantine_tables(conn):
        found |= {row[0] for row in conn.execute(
            f"SELECT DISTINCT {_RAW_CUSTOMER_ID} FROM {table} WHERE {_RAW_CUSTOMER_ID} IN (SELECT unnest(?::VARCHAR[]))",
            [customer_ids],
        ).fetchall()}  # fmt: skip
    return [c for c in customer_ids if c not in found]


def erase_customers(conn: duckdb.DuckDBPyConnection, customer_ids: list[str]) -> dict[str, int]:
    """Delete every row of these customers, in one transaction; returns rows removed per table."""
    ensure_schemas(conn)
    ensure_table(conn, ERASED_CUSTOMERS)
    removed: dict[str, int] = {}
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with transaction(conn):
        for table in _tables_with_customer_id(conn):
            count = conn.execute(
                f"DELETE FROM {table} WHERE customer_id IN (SELECT unnest(?::VARCHAR[]))", [customer_ids]
            ).fetchall()[0][0]
            removed[table] = count
        for table in _quarantine_tables(conn):
            count = conn.execute(
                f"DELETE FROM {table} WHERE {_RAW_CUSTOMER_ID} IN (SELECT unnest(?::VARCHAR[]))",
                [customer_ids],
            ).fetchall()[0][0]
            removed[table] = count
        # Delete then insert, not INSERT OR REPLACE: DuckLake tables have no key.
        conn.execute(
            "DELETE FROM ops.erased_customers WHERE customer_id IN (SELECT unnest(?::VARCHAR[]))",
            [customer_ids],
        )
        conn.execute("INSERT INTO ops.erased_customers SELECT unnest(?::VARCHAR[]), ?", [customer_ids, now])
    return {table: count for table, count in removed.items() if count}


def erase_and_republish(
    conn: duckdb.DuckDBPyConnection, data_dir: Path, customer_ids: list[str], run_id: str
) -> tuple[dict[str, int], list[str], list[Path]]:
    """Erase the known ids, drop stale copies (temporary and dated snapshots), republish the rows
    removed (if published) and drop older Parquet copies.

    Returns (rows removed per table, unknown ids, stale copies removed). The published aggregates
    (segments, RFM shares) are recomputed by a run afterwards (see cli `erase`).
    """
    ensure_schemas(conn)
    unknown = unknown_customers(conn, customer_ids)
    known = [c for c in customer_ids if c not in unknown]
    removed = erase_customers(conn, known) if known else {}
    stale = remove_stale_copies(data_dir)
    if (data_dir / SNAPSHOT_NAME).exists():
        publish_marts(conn, data_dir, run_id)
        prune_all_but_current(data_dir)
    return removed, unknown, stale
