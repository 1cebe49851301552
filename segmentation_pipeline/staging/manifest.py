"""The manifest of landing files (ops.landing_files): which files are new or changed, and what each load did.

A file whose size, mtime, inode and change time, or else checksum, are unchanged is not read again;
a file re-landed empty after rows were loaded from it is held for a person (an accident, far more
often than a day without data).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from pathlib import Path

import duckdb
import polars as pl

from segmentation_pipeline.contracts import SourceContract
from segmentation_pipeline.contracts.tables.ops import SOURCE_FILE
from segmentation_pipeline.staging.landing import LandingFile
from segmentation_pipeline.staging.outcome import FileOutcome, SourceLoad
from segmentation_pipeline.staging.tables import quarantine_table
from segmentation_pipeline.warehouse.tables import (
    read_sql,
)


def file_checksum(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def content_checksum(file: LandingFile) -> str | None:
    """The content's checksum; None when it cannot be read (the reader then says why)."""
    if file.refused:  # never open what is refused (a symlink may point outside raw/)
        return f"refused:{file.size}:{file.mtime_ns}"
    try:
        return file_checksum(file.path)
    except OSError:
        return None


def changed_files(
    conn: duckdb.DuckDBPyConnection, files: list[LandingFile], result: SourceLoad, settle_seconds: float
) -> list[tuple[LandingFile, str | None]]:
    known = {
        row[0]: row[1:]
        for row in conn.execute(
            """SELECT file, size_bytes, mtime_ns, inode, ctime_ns, checksum, rows_loaded
               FROM ops.landing_files WHERE source = ?""",
            [result.source],
        ).fetchall()
    }
    accepted_empty = {
        row[0]: row[1]
        for row in conn.execute(
            "SELECT file, checksum FROM ops.gate_holds WHERE source = ? AND accepted_at IS NOT NULL",
            [result.source],
        ).fetchall()
    }
    changed = []
    settled_before = time.time_ns() - int(settle_seconds * 1e9)
    for file in files:
        previous = known.get(file.relpath)
        stat = (file.size, file.mtime_ns, file.inode, file.ctime_ns)
        # Size and mtime alone miss a copy that keeps both (cp -p, rsync -t); inode and ctime do not.
        if previous and previous[:4] == stat:
            result.files_unchanged += 1
            continue
        if file.mtime_ns > settled_before:
            result.files_waiting += 1
            result.warnings.append(
                f"{file.relpath}: modified less than {settle_seconds:g} s ago (SEGMENTATION_SETTLE_SECONDS), "
                "perhaps still being written: it waits for the next run"
            )
            continue
        checksum = content_checksum(file)
        if not file.refused and (after := _stat(file)) != stat[:2]:
            result.files_waiting += 1
            result.warnings.append(
                f"{file.relpath}: changed while being read ({after}): it waits for the next run"
            )
            continue
        if previous and checksum is not None and previous[4] == checksum:
            # Touched but identical (e.g. copied again): remember the new stat, reload nothing.
            conn.execute(
                """UPDATE ops.landing_files SET size_bytes = ?, mtime_ns = ?, inode = ?, ctime_ns = ?
                   WHERE source = ? AND file = ?""",
                [*stat, result.source, file.relpath],
            )
            result.files_unchanged += 1
            continue
        if previous and previous[5] and holds_no_row(file) and accepted_empty.get(file.relpath) != checksum:
            # An empty file in place of one that had rows is an accident far more often than a day
            # without data: keep its rows and hold the gate until a person accepts the empty file.
            what = "empty (0 bytes)" if file.size == 0 else "without a data row"
            reason = (
                f"re-landed {what} after {previous[5]:,} rows were loaded from it: its rows are kept "
                "until it is re-landed with data, or accepted as empty"
            )
            result.files_waiting += 1
            result.warnings.append(f"{file.relpath}: {reason}")
            result.suspicious.append((file, checksum, reason))
            continue
        changed.append((file, checksum))
    return changed


def holds_no_row(file: LandingFile) -> bool:
    """True for a file with no data row at all (0 bytes, a CSV header alone, an empty Parquet file)."""
    if file.size == 0:
        return True
    if file.refused or file.size > 1 << 16:
        return False
    try:
        if file.fmt == "parquet":
            return pl.scan_parquet(file.path).select(pl.len()).collect().item() == 0
        lines = [line for line in file.path.read_bytes().splitlines() if line.strip()]
        return len(lines) <= (1 if file.fmt == "csv" else 0)
    except (OSError, pl.exceptions.PolarsError):
        return False  # unreadable: the reader says why


def _stat(file: LandingFile) -> tuple[int, int] | None:
    try:
        stat = file.path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def duplicates_of_changed(
    conn: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    files: list[LandingFile],
    changed: list[tuple[LandingFile, str | None]],
) -> list[tuple[LandingFile, str | None]]:
    """Files whose rows were rejected as duplicates of a changed file: judged again with it.

    Without this, a duplicate corrected by re-landing the file that held the first copy would stay
    in quarantine for ever, its row lost.
    """
    changed_paths = [f.relpath for f, _ in changed]
    if not changed_paths:
        return []
    rows = conn.execute(
        f"""SELECT DISTINCT q.{SOURCE_FILE} FROM {quarantine_table(contract.name)} q,
                   unnest(?::VARCHAR[]) AS c(file)
            WHERE contains(q.rule, 'first seen in ' || c.file || ' row ')""",
        [changed_paths],
    ).fetchall()
    dependent = {row[0] for row in rows} - set(changed_paths)
    return [(f, content_checksum(f)) for f in files if f.relpath in dependent]


def record_outcomes(
    conn: duckdb.DuckDBPyConnection,
    source: str,
    outcomes: list[FileOutcome],
    as_of: dt.date,
    now: dt.datetime,
    run_id: str | None,
) -> None:
    frame = pl.DataFrame(
        {
            "source": source,
            "file": [o.file.relpath for o in outcomes],
            "landing_date": [o.file.landing_date for o in outcomes],
            "size_bytes": [o.file.size for o in outcomes],
            "mtime_ns": [o.file.mtime_ns for o in outcomes],
            "inode": [o.file.inode for o in outcomes],
            "ctime_ns": [o.file.ctime_ns for o in outcomes],
            "checksum": [o.checksum for o in outcomes],
            "status": [o.status for o in outcomes],
            "error": [o.error for o in outcomes],
            "rows_received": [o.rows_received for o in outcomes],
            "rows_loaded": [o.rows_loaded for o in outcomes],
            "rows_quarantined": [o.rows_quarantined for o in outcomes],
            "rows_expected": [o.rows_expected for o in outcomes],
            "as_of_date": as_of,
            "loaded_at": now,
            "run_id": run_id,
        },
        schema_overrides={
            "landing_date": pl.Date,
            "error": pl.String,
            "checksum": pl.String,
            "rows_received": pl.Int64,
            "run_id": pl.String,
        },
    )
    conn.register("_landing_outcomes", frame)
    try:
        conn.execute(read_sql("ops/landing_file_upsert"))
    finally:
        conn.unregister("_landing_outcomes")
