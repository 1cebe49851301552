"""Publication of the `marts` schema for BI readers: a read-only DuckDB snapshot and Parquet files.

DuckDB admits one writer per file, so BI tools never open the working warehouse. Each run that
passes its blocking checks writes every marts table once, as Parquet, into a fresh versioned
folder, then a new snapshot file whose tables are views over those files (with the warehouse's
comments), and swaps both in: the snapshot by atomic rename, `marts/` as a symlink swapped
atomically to the folder. A BI connection already open keeps reading the old snapshot, whose
views read the previous folder (kept until the publication after next, KEEP_VERSIONS); a new
connection sees the new one, never a mix.

Why views: the 76-column profile was otherwise written three times per run (warehouse, snapshot,
Parquet), each a large write at scale, and the snapshot's copy cost the most of the three.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from segmentation_pipeline.warehouse.buckets import is_staged_table
from segmentation_pipeline.warehouse.tables import quote_literal, rollback

SNAPSHOT_NAME = "marts.duckdb"
PARQUET_LINK = "marts"
PARQUET_VERSIONS = ".marts_versions"
# Files in this storage format open in every DuckDB from 1.0 on (the oldest client tested: OLDEST_CLIENT
# in tests/end_to_end/test_bi_clients.py).
SNAPSHOT_STORAGE_VERSION = "v1.0.0"
KEEP_VERSIONS = 2  # the current set and the one before it (a reader may still be on it)


@dataclass(frozen=True)
class Publication:
    snapshot: Path
    parquet_dir: Path
    tables: dict[str, int]  # table -> rows
    beside: bool = False  # a backfill: published under dated names, the newer live snapshot untouched


def mart_tables(conn: duckdb.DuckDBPyConnection) -> list[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' ORDER BY table_name"
    ).fetchall()
    # A `__next` table is a partitioned stage's rows before its commit (one a failed run left behind).
    return [row[0] for row in rows if not is_staged_table(row[0])]


def _comments(conn: duckdb.DuckDBPyConnection, table: str) -> tuple[str | None, list[tuple[str, str]]]:
    table_comment = conn.execute(
        "SELECT comment FROM duckdb_tables() WHERE schema_name = 'marts' AND table_name = ? AND database_name = current_database()",
        [table],
    ).fetchall()
    columns = conn.execute(
        """SELECT column_name, comment FROM duckdb_columns()
           WHERE schema_name = 'marts' AND table_name = ? AND database_name = current_database() AND comment IS NOT NULL""",
        [table],
    ).fetchall()
    return (table_comment[0][0] if table_comment else None), columns


def published_as_of(data_dir: Path) -> dt.date | None:
    """The analysis date of the live snapshot (None when there is none, or it cannot be read)."""
    snapshot = data_dir / SNAPSHOT_NAME
    if not snapshot.exists():
        return None
    try:
        with duckdb.connect(str(snapshot), read_only=True) as reader:
            return reader.execute("SELECT max(as_of_date) FROM customer_profile").fetchall()[0][0]
    except duckdb.Error:
        return None


def publish_marts(
    conn: duckdb.DuckDBPyConnection, data_dir: Path, run_id: str, as_of: dt.date | None = None
) -> Publication:
    """Write every `marts` table to a new snapshot file and Parquet folder, then swap both in.

    A run for an earlier date than the live snapshot's (a backfill) never replaces it: its marts
    are published beside, as `marts_<date>.duckdb` and `marts_<date>/`.
    """
    newer = published_as_of(data_dir)
    beside = as_of is not None and newer is not None and newer > as_of
    snapshot_name, link_name = (
        (f"marts_{as_of.isoformat()}.duckdb", f"{PARQUET_LINK}_{as_of.isoformat()}")
        if beside
        else (SNAPSHOT_NAME, PARQUET_LINK)
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    tables = mart_tables(conn)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    tmp_snapshot = data_dir / f".{SNAPSHOT_NAME}.{run_id}.tmp"
    tmp_snapshot.unlink(missing_ok=True)
    version_dir = data_dir / PARQUET_VERSIONS / f"{stamp}-{run_id[:8]}"
    version_dir.mkdir(parents=True)
    counts = {}
    # The storage version is pinned, not left to the engine's default (DuckDB 2.0 writes files no
    # 1.x client opens): BI tools embed their own, often older, DuckDB (README, BI section).
    conn.execute(
        f"ATTACH {quote_literal(str(tmp_snapshot))} AS publication (STORAGE_VERSION {quote_literal(SNAPSHOT_STORAGE_VERSION)})"
    )
    try:
        conn.execute("BEGIN TRANSACTION")  # one commit for every statement, not one each
        for table in tables:
            parquet = (version_dir / f"{table}.parquet").resolve()
            conn.execute(f"COPY marts.{table} TO {quote_literal(str(parquet))} (FORMAT parquet)")
            counts[table] = conn.execute(f"SELECT count(*) FROM marts.{table}").fetchall()[0][0]
            # An absolute path: a BI tool's working directory is its own.
            conn.execute(
                f"CREATE VIEW publication.main.{table} AS SELECT * FROM read_parquet({quote_literal(str(parquet))})"
            )
            description, columns = _comments(conn, table)
            if description:
                conn.execute(f"COMMENT ON VIEW publication.main.{table} IS {quote_literal(description)}")
            for column, text in columns:
                conn.execute(
                    f'COMMENT ON COLUMN publication.main.{table}."{column}" IS {quote_literal(text)}'
                )
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise
    finally:
        conn.execute("DETACH publication")
    snapshot = data_dir / snapshot_name
    _fsync(tmp_snapshot)
    os.replace(tmp_snapshot, snapshot)  # atomic: readers see the old file or the new one
    _swap_symlink(data_dir / link_name, version_dir)
    _prune_versions(data_dir / PARQUET_VERSIONS, keep=version_dir)
    return Publication(snapshot=snapshot, parquet_dir=data_dir / link_name, tables=counts, beside=beside)


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _swap_symlink(link: Path, target: Path) -> None:
    if link.exists() and not link.is_symlink():
        raise RuntimeError(
            f"{link} exists and is not the publication symlink; move it away to publish Parquet files"
        )
    tmp_link = link.with_name(f".{link.name}.tmp")
    tmp_link.unlink(missing_ok=True)
    tmp_link.symlink_to(target.relative_to(link.parent), target_is_directory=True)
    os.replace(tmp_link, link)


def _prune_versions(versions: Path, keep: Path) -> None:
    # Folders a dated (backfill) link points to are kept: they are a publication of their own.
    linked = {link.resolve() for link in versions.parent.glob(f"{PARQUET_LINK}_*") if link.is_symlink()}
    old = sorted(p for p in versions.iterdir() if p.is_dir() and p != keep and p.resolve() not in linked)
    for path in old[: max(0, len(old) - (KEEP_VERSIONS - 1))]:
        shutil.rmtree(path, ignore_errors=True)


def remove_stale_copies(data_dir: Path) -> list[Path]:
    """Remove what a killed publication or a backfill left beside the live snapshot: temporary
    snapshots and dated (backfill) publications. After an erasure no copy may keep the customer."""
    removed = []
    for path in [*data_dir.glob(f".{SNAPSHOT_NAME}.*.tmp"), *data_dir.glob("marts_*.duckdb")]:
        path.unlink(missing_ok=True)
        removed.append(path)
    for link in data_dir.glob(f"{PARQUET_LINK}_*"):
        if link.is_symlink():
            link.unlink()
            removed.append(link)
    return removed


def prune_all_but_current(data_dir: Path) -> None:
    """Remove every Parquet version but the published one (after an erasure, old copies must go)."""
    current = (data_dir / PARQUET_LINK).resolve()
    versions = data_dir / PARQUET_VERSIONS
    for path in versions.iterdir() if versions.is_dir() else []:
        if path.is_dir() and path.resolve() != current:
            shutil.rmtree(path, ignore_errors=True)
