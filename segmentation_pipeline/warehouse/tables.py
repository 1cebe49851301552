"""DuckDB access: connections, SQL files, typed DDL from the contract, atomic table replacement."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from importlib.resources import files

import duckdb
import polars as pl

SCHEMAS = ("ops", "staging", "quarantine", "features", "models", "marts")


def read_sql(name: str) -> str:
    """The statement set in `segmentation_pipeline/sql/<layer>/<table>.sql`, e.g. `ops/gate_holds`.

    Read as package data, so an installed wheel carries it; values are bound as parameters, never
    pasted in.
    """
    return files("segmentation_pipeline").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


def duckdb_type(dtype: pl.DataType) -> str:
    if dtype == pl.String:
        return "VARCHAR"
    if dtype == pl.Boolean:
        return "BOOLEAN"
    if dtype == pl.Date:
        return "DATE"
    if dtype == pl.Datetime:
        return "TIMESTAMP"
    if dtype in (pl.Int8, pl.Int16, pl.Int32, pl.UInt8, pl.UInt16):
        return "INTEGER"
    if dtype.is_integer():
        return "BIGINT"
    if dtype.is_float():
        return "DOUBLE"
    raise TypeError(f"no DuckDB type for {dtype}")


def ensure_schemas(conn: duckdb.DuckDBPyConnection) -> None:
    for schema in SCHEMAS:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")


@contextlib.contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: a failure (or a kill) mid-way leaves the previous state in place."""
    conn.execute("BEGIN TRANSACTION")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def comment_table(
    conn: duckdb.DuckDBPyConnection, table: str, description: str, columns: Mapping[str, str]
) -> None:
    """Table and column comments, so analysts see the documentation in any SQL client."""
    # COMMENT ON does not take bound parameters; the texts are ours (code), quoted safely.
    conn.execute(f"COMMENT ON TABLE {table} IS {_quote(description)}")
    existing = {row[0] for row in conn.execute(f"DESCRIBE {table}").fetchall()}
    for column, text in columns.items():
        if column in existing:
            conn.execute(f'COMMENT ON COLUMN {table}."{column}" IS {_quote(text)}')


def write_table(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    frame: pl.DataFrame,
    description: str = "",
    columns: Mapping[str, str] | None = None,
) -> int:
    """Create or replace `table` from `frame`, with its comments, inside the caller's transaction."""
    conn.register("_replacement", frame)
    try:
        conn.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _replacement")
    finally:
        conn.unregister("_replacement")
    if description or columns:
        comment_table(conn, table, description, columns or {})
    return frame.height


def replace_table(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    frame: pl.DataFrame,
    description: str = "",
    columns: Mapping[str, str] | None = None,
) -> int:
    """Replace `table` with `frame` in one transaction; readers never see a half-written table."""
    with transaction(conn):
        return write_table(conn, table, frame, description, columns)


def insert_frame(conn: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Append `frame` to `table`, matching columns by name (caller owns the transaction)."""
    if frame.height == 0:
        return
    conn.register("_insertion", frame)
    try:
        conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _insertion")
    finally:
        conn.unregister("_insertion")


def query_frame(conn: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.DataFrame:
    # execute() then .pl(), not sql(params=...).pl(): with parameters, sql() first materialises the
    # result in a Python-side relation, 50-100x the CPU (1.1 s instead of 0.01 s for 140k rows of
    # staging.social on DuckDB 1.5.5; 0.3 s on 2.0, where a connection has no .pl()).
    return conn.execute(sql, params or []).pl()


def table_exists(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = table.split(".")
    found = conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, name],
    ).fetchall()
    return found[0][0] > 0
