"""DuckDB access: connections, SQL files, typed DDL from the contract, atomic table replacement."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from importlib.resources import files

import duckdb
import polars as pl

from segmentation_pipeline.contracts.tables import TableContract

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


def rollback(conn: duckdb.DuckDBPyConnection) -> None:
    """Roll back the open transaction, if any: a COMMIT that failed (a DuckLake write conflict)
    has already ended it, and a second error would hide the first."""
    with contextlib.suppress(duckdb.TransactionException):
        conn.execute("ROLLBACK")


@contextlib.contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: a failure (or a kill) mid-way leaves the previous state in place."""
    conn.execute("BEGIN TRANSACTION")
    try:
        yield conn
    except BaseException:
        rollback(conn)
        raise
    conn.execute("COMMIT")


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def comment_table(conn: duckdb.DuckDBPyConnection, contract: TableContract) -> None:
    """Table and column comments from the contract, so analysts see them in any SQL client."""
    # COMMENT ON does not take bound parameters; the texts are ours (code), quoted safely.
    conn.execute(f"COMMENT ON TABLE {contract.table} IS {quote_literal(contract.description)}")
    existing = {row[0] for row in conn.execute(f"DESCRIBE {contract.table}").fetchall()}
    for column in contract.columns:
        if column.name in existing:
            conn.execute(
                f'COMMENT ON COLUMN {contract.table}."{column.name}" IS {quote_literal(column.description)}'
            )


def create_table(conn: duckdb.DuckDBPyConnection, contract: TableContract) -> None:
    """The contract's table, empty and typed, unless it exists (tables that accumulate across runs)."""
    conn.execute(contract.ddl())
    comment_table(conn, contract)


def ensure_table(conn: duckdb.DuckDBPyConnection, contract: TableContract) -> None:
    """The contract's table if missing (commented when created), with the columns added since.

    Every statement is IF NOT EXISTS: once the table is whole nothing is written, so parallel
    DuckLake steps calling this do not conflict.
    """
    created = not table_exists(conn, contract.table)
    conn.execute(contract.ddl())
    for statement in contract.upgrade_ddl():
        conn.execute(statement)
    if created:
        comment_table(conn, contract)


def write_table(conn: duckdb.DuckDBPyConnection, contract: TableContract, frame: pl.DataFrame) -> int:
    """Create or replace the contract's table, typed as declared, from `frame`, with its comments,
    inside the caller's transaction.

    The table is created from the contract (types, NOT NULL), then filled by column name: a null
    where the contract refuses one, or a column the contract does not declare, fails the write and
    the caller's transaction keeps the previous table.
    """
    conn.execute(contract.ddl(replace=True))
    insert_frame(conn, contract.table, frame, allow_empty=False)
    comment_table(conn, contract)
    return frame.height


def empty_frame(conn: duckdb.DuckDBPyConnection, contract: TableContract) -> pl.DataFrame:
    """A frame without rows with the contract's columns, typed as the table is."""
    columns = ", ".join(f'CAST(NULL AS {c.type}) AS "{c.name}"' for c in contract.columns)
    return query_frame(conn, f"SELECT {columns} LIMIT 0")


def replace_table(conn: duckdb.DuckDBPyConnection, contract: TableContract, frame: pl.DataFrame) -> int:
    """Replace the contract's table with `frame` in one transaction; readers never see a half-written table."""
    with transaction(conn):
        return write_table(conn, contract, frame)


def contract_violations(conn: duckdb.DuckDBPyConnection, contract: TableContract) -> list[str]:
    """How the table in the warehouse departs from its contract: columns missing, undeclared or of
    another type, and nulls where the contract refuses them (counts only: no row is shown)."""
    found = dict(
        conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [contract.schema, contract.name],
        ).fetchall()
    )
    if not found:
        return [f"{contract.table} does not exist"]
    problems = [f"{name}: missing" for name in contract.names if name not in found]
    problems += [f"{name}: not in the contract" for name in found if name not in contract.names]
    problems += [
        f"{c.name}: {found[c.name]}, the contract says {c.type}"
        for c in contract.columns
        if c.name in found and found[c.name] != c.type
    ]
    required = [c.name for c in contract.columns if not c.nullable and c.name in found]
    if required:
        nulls = ", ".join(f'count(*) FILTER (WHERE "{n}" IS NULL)' for n in required)
        counts = conn.execute(f"SELECT {nulls} FROM {contract.table}").fetchall()[0]
        problems += [
            f"{n}: {k:,} nulls, the contract says NOT NULL"
            for n, k in zip(required, counts, strict=True)
            if k
        ]
    return problems


def insert_frame(
    conn: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, allow_empty: bool = True
) -> None:
    """Append `frame` to `table`, matching columns by name (caller owns the transaction).

    Read through DuckDB's replacement scan of a local variable, not `conn.register`: a registered
    frame stays alive until the transaction that used it ends, even once unregistered, so the
    staging load, one transaction of many batches, held every batch it had inserted (~250 bytes per
    order line: 14 GB and rising at 10M customers on a DuckLake; benchmarks/README.md).

    An empty frame is skipped unless `allow_empty` is False (then its columns are still checked
    against the table's).
    """
    if frame.height == 0 and allow_empty:
        return
    _insertion = frame  # noqa: F841 (read by DuckDB's replacement scan, by name, in the SQL below)
    conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _insertion")


def query_frame(conn: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.DataFrame:
    # execute() then .pl(), not sql(params=...).pl(): with parameters, sql() first materialises the
    # result in a Python-side relation, many times the CPU (benchmarks/README.md, "Figures behind
    # the code"); on DuckDB 2.0 a connection has no .pl().
    return conn.execute(sql, params or []).pl()


def table_exists(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = table.split(".")
    found = conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, name],
    ).fetchall()
    return found[0][0] > 0
