"""Load one source's new or changed landing files into `staging.<source>` and `quarantine.<source>`.

Incremental by manifest (`ops.landing_files`): a file whose size and mtime, or else checksum, are
unchanged is skipped; a changed (re-landed) file replaces exactly its own rows. All files of a run
are written in one transaction, so a failure or a kill leaves the warehouse as it was.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import polars as pl

from segmentation_pipeline.contracts import SourceContract
from segmentation_pipeline.contracts.tables.ops import LANDING_DATE, ROW_NUMBER, SOURCE_FILE
from segmentation_pipeline.staging.erased import erased_ids, erased_rows, scrub_erased
from segmentation_pipeline.staging.landing import LandingFile, discover, latest_acceptable_date
from segmentation_pipeline.staging.manifest import changed_files, duplicates_of_changed, record_outcomes
from segmentation_pipeline.staging.outcome import FileOutcome, SourceLoad
from segmentation_pipeline.staging.readers import RawRead, read_landing_file
from segmentation_pipeline.staging.tables import (
    LOADED_AT,
    ensure_source_tables,
    quarantine_table,
    staging_table,
)
from segmentation_pipeline.staging.validate import (
    QUARANTINE_ROW_SCHEMA,
    error_rows,
    validate_rows,
)
from segmentation_pipeline.warehouse.tables import (
    insert_frame,
    transaction,
)

log = logging.getLogger(__name__)

# "duplicate key (k): first seen in <file> row <n>" counts as one reason whatever the file.
_DUPLICATE_DETAIL = re.compile(r": (first seen|a newer version is) in .*$")


_COLUMN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_ .-]{0,63}$")


def _header_hint(present: list[str], contract: SourceContract) -> str:
    """Why a file may lack the required columns, without ever echoing a value (a header-less file's
    first row is data, possibly personal)."""
    if len(present) == 1 and any(mark in present[0] for mark in ";\t|"):
        return " (the header row holds one column: is the file delimited by ';', tab or '|'? use commas)"
    by_lower = {c.strip().lower(): c for c in present}
    renamed = [by_lower[c] for c in contract.required if c not in present and c in by_lower]
    if renamed:
        return f" (column names are lower case and exact: found {', '.join(renamed)})"
    if not set(present) & set(contract.columns):
        return " (no contract column in the first row: is the header row missing?)"
    return ""


def _conform(read: RawRead, file: LandingFile, contract: SourceContract, result: SourceLoad) -> RawRead:
    """Contract columns in contract order; a file lacking a required column is rejected row by row."""
    if read.rows is None:
        return read
    present = [c for c in read.rows.columns if c != ROW_NUMBER]
    extra = [c for c in present if c not in contract.columns]
    missing = [c for c in contract.required if c not in present]
    if extra and not missing:
        named = [c for c in extra if _COLUMN_NAME.match(c)]
        unnamed = len(extra) - len(named)
        result.warnings.append(
            f"{file.relpath}: extra columns ignored: {', '.join(named)}"
            + (f"{', ' if named else ''}{unnamed} more not shown (not column names)" if unnamed else "")
        )
    if missing and not present and read.row_errors:
        return read  # nothing parsed at all (e.g. no line was JSON): the row errors say why
    if missing:
        read.file_error = f"missing required column(s): {', '.join(missing)}{_header_hint(present, contract)}"
        rule = f"file rejected: {read.file_error}"
        raw_text = read.rows.select(pl.struct(present).struct.json_encode()).to_series().to_list()
        read.row_errors += list(
            zip(read.rows[ROW_NUMBER].to_list(), [rule] * len(raw_text), raw_text, strict=True)
        )
        read.rows = None
        return read
    read.rows = read.rows.select(
        *[pl.col(c) if c in present else pl.lit(None, pl.String).alias(c) for c in contract.columns],
        pl.col(ROW_NUMBER),
        pl.lit(file.relpath).alias(SOURCE_FILE),
        pl.lit(file.landing_date, pl.Date).alias(LANDING_DATE),
    )
    return read


def _batches(
    changed: list[tuple[LandingFile, str]], max_bytes: int
) -> Iterator[list[tuple[LandingFile, str]]]:
    """Groups of files small enough to validate in memory together (bounds peak memory)."""
    batch, size = [], 0
    for item in changed:
        batch.append(item)
        size += item[0].size
        if size >= max_bytes:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _cross_file_duplicates(
    conn: duckdb.DuckDBPyConnection, good: pl.DataFrame, contract: SourceContract
) -> pl.DataFrame:
    """Rows of this batch whose key is already in staging from another file (that file wins)."""
    if contract.upsert_by_updated_at or good.height == 0:
        return pl.DataFrame(schema={SOURCE_FILE: pl.String, ROW_NUMBER: pl.Int64, "rule": pl.String})
    keys = ", ".join(f'"{k}"' for k in contract.keys)
    # A local read by DuckDB's replacement scan, not conn.register (kept alive until the load's
    # transaction ends: see warehouse.tables.insert_frame).
    # The scan looks the name up in the frame that calls execute: hence execute here, not query_frame.
    _batch_keys = good.select(*contract.keys, SOURCE_FILE, ROW_NUMBER)  # noqa: F841
    return conn.execute(
        f"""
        SELECT b.{SOURCE_FILE}, b.{ROW_NUMBER},
               'duplicate key ({", ".join(contract.keys)}): first seen in '
                   || s.{SOURCE_FILE} || ' row ' || s.{ROW_NUMBER} AS rule
        FROM _batch_keys b JOIN {staging_table(contract.name)} s USING ({keys})
        """
    ).pl()


def _read_all(files: Iterable[LandingFile]) -> list[RawRead]:
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return list(pool.map(read_landing_file, files))


def load_source(
    conn: duckdb.DuckDBPyConnection,
    raw_dir: Path,
    contract: SourceContract,
    as_of: dt.date,
    run_id: str | None = None,
    expected_rules: tuple[str, ...] = (),
    settle_seconds: float = 0.0,
    # Files validated together: larger batches are a little faster and peak higher in memory;
    # 48 MB is the middle (benchmarks/README.md, "Figures behind the code").
    batch_bytes: int = 48 << 20,
) -> SourceLoad:
    """Load every new or changed file of `contract.name` landed on or before `as_of`.

    `expected_rules`: rule prefixes declared expected for this source (counted apart, see the gate);
    `settle_seconds`: a file modified more recently than this may still be being written: it waits.
    """
    result = SourceLoad(source=contract.name)
    ensure_source_tables(conn, contract)
    all_files = discover(raw_dir, contract.name)
    files = [f for f in all_files if f.landing_date is None or f.landing_date <= as_of]
    result.files_seen = len(files)
    result.files_deferred = len(all_files) - len(files)
    future = latest_acceptable_date()
    for file in all_files:
        if file.landing_date and file.landing_date > future:
            result.warnings.append(
                f"{file.relpath}: dated {file.landing_date}, after tomorrow: it waits (and does not move the analysis date)"
            )
    changed = changed_files(conn, files, result, settle_seconds)
    changed += duplicates_of_changed(conn, contract, files, changed)
    if not changed:
        return result
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    relpaths = [f.relpath for f, _ in changed]
    with transaction(conn):
        of_changed_files = f"WHERE {SOURCE_FILE} IN (SELECT unnest(?::VARCHAR[]))"
        conn.execute(f"DELETE FROM {quarantine_table(contract.name)} {of_changed_files}", [relpaths])
        # A re-landed file is judged afresh: an earlier hold on it no longer applies.
        conn.execute(
            """DELETE FROM ops.gate_holds
               WHERE source = ? AND accepted_at IS NULL AND file IN (SELECT unnest(?::VARCHAR[]))""",
            [contract.name, relpaths],
        )
        removed = conn.execute(f"DELETE FROM {staging_table(contract.name)} {of_changed_files}", [relpaths])
        if rows_removed := removed.fetchall()[0][0]:
            conn.execute(
                "INSERT INTO ops.staging_replacements VALUES (?, ?, ?, ?)",
                [contract.name, rows_removed, now, run_id],
            )
        erased = erased_ids(conn)
        for batch in _batches(changed, batch_bytes):
            _load_batch(conn, batch, contract, result, now, run_id, erased, expected_rules)
        record_outcomes(conn, contract.name, result.outcomes, as_of, now, run_id)
    return result


def _load_batch(
    conn: duckdb.DuckDBPyConnection,
    batch: list[tuple[LandingFile, str]],
    contract: SourceContract,
    result: SourceLoad,
    now: dt.datetime,
    run_id: str | None,
    erased: pl.DataFrame,
    expected_rules: tuple[str, ...],
) -> None:
    reads = [
        _conform(read, file, contract, result)
        for read, (file, _) in zip(_read_all(f for f, _ in batch), batch, strict=True)
    ]
    frames = [read.rows for read in reads if read.rows is not None and read.rows.height]
    quarantined = [
        error_rows(read.row_errors, file.relpath, file.landing_date)
        for read, (file, _) in zip(reads, batch, strict=True)
        if read.row_errors  # most files have none: no empty frame per file
    ]
    # Whole-file rejections also get one quarantine entry without a row number, carrying the reason.
    for read, (file, _) in zip(reads, batch, strict=True):
        if read.file_error:
            quarantined.append(
                pl.DataFrame(
                    {SOURCE_FILE: [file.relpath], ROW_NUMBER: [None], LANDING_DATE: [file.landing_date],
                     "rule": [f"file rejected: {read.file_error}"], "raw_values": [None]},
                    schema=QUARANTINE_ROW_SCHEMA,
                )
            )  # fmt: skip
    good = None
    if frames:
        good, bad = validate_rows(pl.concat(frames, how="vertical"), contract)
        quarantined.append(bad)
        duplicates = _cross_file_duplicates(conn, good, contract)
        if duplicates.height:
            moved = good.join(duplicates, on=[SOURCE_FILE, ROW_NUMBER])
            raw_columns = list(contract.columns)
            quarantined.append(
                moved.select(
                    SOURCE_FILE, ROW_NUMBER, LANDING_DATE, "rule",
                    pl.struct(pl.col(raw_columns).cast(pl.String)).struct.json_encode().alias("raw_values"),
                )
            )  # fmt: skip
            good = good.join(duplicates, on=[SOURCE_FILE, ROW_NUMBER], how="anti")
        of_erased = erased_rows(good, erased)
        if of_erased.height:
            quarantined.append(of_erased)
            good = good.join(
                of_erased.select(SOURCE_FILE, ROW_NUMBER), on=[SOURCE_FILE, ROW_NUMBER], how="anti"
            )
        insert_frame(conn, staging_table(contract.name), good.with_columns(pl.lit(now).alias(LOADED_AT)))
    quarantined.insert(0, pl.DataFrame(schema=QUARANTINE_ROW_SCHEMA))  # pl.concat needs one frame
    quarantine = scrub_erased(pl.concat(quarantined, how="vertical"), erased).with_columns(
        pl.lit(now).alias("quarantined_at"), pl.lit(run_id, pl.String).alias("run_id")
    )
    insert_frame(conn, quarantine_table(contract.name), quarantine)
    _account(batch, reads, good, quarantine, result, expected_rules)


def _account(
    batch: list[tuple[LandingFile, str]],
    reads: list[RawRead],
    good: pl.DataFrame | None,
    quarantine: pl.DataFrame,
    result: SourceLoad,
    expected_rules: tuple[str, ...] = (),
) -> None:
    """Per-file row accounting; rows received must equal rows loaded + rows quarantined."""
    loaded = dict(good.group_by(SOURCE_FILE).len().iter_rows()) if good is not None else {}
    rows = quarantine.filter(pl.col(ROW_NUMBER).is_not_null())
    rejected = dict(rows.group_by(SOURCE_FILE).len().iter_rows())
    expected: Counter = Counter()
    for file, rule_text in rows.select(SOURCE_FILE, "rule").iter_rows():
        rules = rule_text.split("; ")
        for rule in rules:
            result.reasons[_DUPLICATE_DETAIL.sub("", rule)] += 1
        if expected_rules and all(rule.startswith(expected_rules) for rule in rules):
            expected[file] += 1
    for read, (file, checksum) in zip(reads, batch, strict=True):
        n_loaded, n_rejected = loaded.get(file.relpath, 0), rejected.get(file.relpath, 0)
        if read.file_error:
            result.reasons[f"file rejected: {read.file_error}"] += 1
            status = "empty" if read.rows_received == 0 else "rejected"
        elif n_rejected:
            status = "partially_loaded" if n_loaded else "rejected"
        else:
            status = "loaded"
        if read.rows_received is not None and read.rows_received != n_loaded + n_rejected:
            raise RuntimeError(
                f"{file.relpath}: row accounting broken: received {read.rows_received}, "
                f"loaded {n_loaded}, quarantined {n_rejected}"
            )
        result.outcomes.append(
            FileOutcome(
                file, checksum, status, read.rows_received, n_loaded, n_rejected, read.file_error,
                expected[file.relpath],
            )
        )  # fmt: skip
