"""Customer-hash buckets: a per-customer table built by several steps at once, published in one commit.

A partitioned stage writes its table in three moves (defs/partitioned.py makes them Dagster steps):
1. `start_staged` creates `<table>__next`, empty and typed as the contract says;
2. each bucket inserts the rows of its customers (`hash(customer_id) % buckets = bucket`) into it,
   in its own transaction, beside the other buckets (a DuckLake takes concurrent appends to one
   table: no commit conflict);
3. `commit_staged` drops the table and renames `<table>__next` to it, in one transaction.
Readers see the old table until that commit and the whole new one after it; a bucket that fails
stops the run before the commit, so no half-written table is ever visible. The rename moves no
data (DuckLake and DuckDB rename in the catalog), so the commit costs the same at any size.
"""

from __future__ import annotations

import dataclasses

import duckdb

from segmentation_pipeline.contracts.tables.base import TableContract
from segmentation_pipeline.warehouse.tables import comment_table, transaction

STAGED_SUFFIX = "__next"
BUCKET_TABLE = "_bucket_customers"  # temporary: the customers of the bucket a step builds


@dataclasses.dataclass(frozen=True)
class Bucket:
    """One customer-hash bucket of `of`: the customers whose `hash(customer_id) % of` is `index`."""

    index: int
    of: int

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.of:
            raise ValueError(f"bucket {self.index} of {self.of}: the index must be in 0..{self.of - 1}")


def staged(contract: TableContract, filled_at_commit: tuple[str, ...] = ()) -> TableContract:
    """The contract of the table a partitioned stage fills before its commit (same schema, `__next`);
    the columns `filled_at_commit` (ranks over every customer) may be null there."""
    columns = tuple(
        dataclasses.replace(c, nullable=True) if c.name in filled_at_commit else c for c in contract.columns
    )
    return dataclasses.replace(contract, table=contract.table + STAGED_SUFFIX, columns=columns)


def is_staged_table(name: str) -> bool:
    return name.endswith(STAGED_SUFFIX)


def start_staged(
    conn: duckdb.DuckDBPyConnection, contract: TableContract, filled_at_commit: tuple[str, ...] = ()
) -> None:
    """An empty `<table>__next` typed by the contract (replacing one a failed run left behind)."""
    conn.execute(staged(contract, filled_at_commit).ddl(replace=True))


def mark_bucket_customers(conn: duckdb.DuckDBPyConnection, bucket: Bucket, source: str) -> int:
    """The temporary table `_bucket_customers` (customer_id) of the bucket's customers in `source`.

    DuckDB's `hash` is deterministic (the same in every process and run), so every step of one run
    agrees on the buckets, and the buckets split the customers exactly: each is in one bucket.
    """
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE {BUCKET_TABLE} AS "
        f"SELECT DISTINCT customer_id FROM {source} WHERE hash(customer_id) % ? = ?",
        [bucket.of, bucket.index],
    )
    return conn.execute(f"SELECT count(*) FROM {BUCKET_TABLE}").fetchall()[0][0]


def swap_staged(conn: duckdb.DuckDBPyConnection, contract: TableContract) -> None:
    """Replace the contract's table with its `__next` table, inside the caller's transaction."""
    conn.execute(f"DROP TABLE IF EXISTS {contract.table}")
    conn.execute(f"ALTER TABLE {staged(contract).table} RENAME TO {contract.name}")
    comment_table(conn, contract)


def commit_staged(conn: duckdb.DuckDBPyConnection, contracts: list[TableContract]) -> None:
    """Replace each contract's table with its `__next` table, all in one transaction."""
    with transaction(conn):
        for contract in contracts:
            swap_staged(conn, contract)
