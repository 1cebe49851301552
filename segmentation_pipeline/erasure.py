"""Right to be forgotten: remove customers from staging, quarantine, features, models, history and marts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from segmentation_pipeline.publish import SNAPSHOT_NAME, prune_all_but_current, publish_marts
from segmentation_pipeline.warehouse import ensure_schemas, read_sql, transaction


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


def erase_customers(conn: duckdb.DuckDBPyConnection, customer_ids: list[str]) -> dict[str, int]:
    """Delete every row of these customers, in one transaction; returns rows removed per table."""
    ensure_schemas(conn)
    conn.execute(read_sql("ops_erased_customers"))
    removed: dict[str, int] = {}
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with transaction(conn):
        for table in _tables_with_customer_id(conn):
            count = conn.execute(
                f"DELETE FROM {table} WHERE customer_id IN (SELECT unnest(?::VARCHAR[]))", [customer_ids]
            ).fetchall()[0][0]
            removed[table] = count
        # Quarantined rows keep raw values (personal data included): match on the raw customer_id.
        for table in _quarantine_tables(conn):
            count = conn.execute(
                f"""DELETE FROM {table}
                    WHERE json_extract_string(raw_values, '$.customer_id') IN (SELECT unnest(?::VARCHAR[]))""",
                [customer_ids],
            ).fetchall()[0][0]
            removed[table] = count
        conn.execute(
            "INSERT OR REPLACE INTO ops.erased_customers SELECT unnest(?::VARCHAR[]), ?", [customer_ids, now]
        )
    return {table: count for table, count in removed.items() if count}


def erase_and_republish(
    warehouse_path: Path, data_dir: Path, customer_ids: list[str], run_id: str
) -> dict[str, int]:
    """Erase, then republish the BI snapshot and Parquet files (if published) and drop older copies."""
    with duckdb.connect(str(warehouse_path)) as conn:
        removed = erase_customers(conn, customer_ids)
        if (data_dir / SNAPSHOT_NAME).exists():
            publish_marts(conn, data_dir, run_id)
            prune_all_but_current(data_dir)
    return removed
