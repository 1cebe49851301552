"""Contracts of the run's bookkeeping: the `ops` tables and each source's `quarantine` table.

None is a Dagster asset (no column schema, no check): steps create them when missing and keep them
across runs. DuckLake has no PRIMARY KEY, so the one-row-per-key rules below are kept by the code
that writes (delete then insert in one transaction); warehouses created before keep their keys.
"""

from __future__ import annotations

from .base import Column, TableContract

# Lineage columns of every staging and quarantine row.
SOURCE_FILE = "_source_file"
ROW_NUMBER = "_row_number"
LANDING_DATE = "_landing_date"

# The manifest of landing files: one row per (source, file) ever seen, with its checksum and row
# accounting (kept by sql/ops/landing_file_upsert.sql). A file whose size, mtime and checksum are
# unchanged is not read again; a re-landed file replaces exactly its own rows in staging and quarantine.
LANDING_FILES = TableContract(
    "ops.landing_files",
    "The manifest of landing files: one row per file ever seen, with its checksum and row accounting.",
    (
        Column("source", "VARCHAR", "Source the file belongs to."),
        Column("file", "VARCHAR", "Landing file, relative to the raw directory."),
        Column("landing_date", "DATE", "From the file name; NULL when the name is wrong.", nullable=True),
        Column("size_bytes", "BIGINT", "Size when loaded.", nullable=True),
        Column("mtime_ns", "BIGINT", "Modification time when loaded.", nullable=True),
        Column("checksum", "VARCHAR", "BLAKE2b of the file's bytes.", nullable=True),
        Column("status", "VARCHAR", "loaded | partially_loaded | rejected | empty."),
        Column("error", "VARCHAR", "Why the whole file was rejected.", nullable=True),
        Column(
            "rows_received",
            "BIGINT",
            "Data rows; NULL when the file could not be read at all.",
            nullable=True,
        ),
        Column("rows_loaded", "BIGINT", "Rows loaded into staging."),
        Column("rows_quarantined", "BIGINT", "Rows sent to quarantine."),
        Column("as_of_date", "DATE", "Analysis date of the run that loaded it.", nullable=True),
        Column("loaded_at", "TIMESTAMP", "When the file was loaded (UTC)."),
        Column("run_id", "VARCHAR", "Dagster run that loaded it.", nullable=True),
        # The inode and change time make the size+mtime shortcut safe (a copy that keeps size and
        # mtime still changes both).
        Column("inode", "BIGINT", "Inode when loaded.", nullable=True),
        Column("ctime_ns", "BIGINT", "Change time when loaded.", nullable=True),
        Column(
            "rows_expected",
            "BIGINT",
            "Quarantined rows whose every rule is declared expected (SEGMENTATION_EXPECTED_REJECTIONS).",
            nullable=True,
            default="0",
        ),
    ),
    added_later=("inode", "ctime_ns", "rows_expected"),
)

# Staging rows removed because their landing file was landed again with other content. The
# feature refresh reads it: after a replacement the removed rows' customers are unknown, so the
# next build recomputes every customer.
STAGING_REPLACEMENTS = TableContract(
    "ops.staging_replacements",
    "Staging rows removed because their landing file was landed again with other content.",
    (
        Column("source", "VARCHAR", "Source of the re-landed file."),
        Column("rows_removed", "BIGINT", "Staging rows removed."),
        Column("replaced_at", "TIMESTAMP", "The load's time, on the clock of staging's _loaded_at."),
        Column("run_id", "VARCHAR", "Dagster run of the load.", nullable=True),
    ),
)

# Files that failed a source's quality gate. A hold keeps the gate failing on every later run
# until the file is re-landed (another checksum: the hold is dropped and the file judged again)
# or a person accepts it (`python -m segmentation_pipeline accept SOURCE FILE`). One row per
# (source, file), kept by staging.gate.hold.
GATE_HOLDS = TableContract(
    "ops.gate_holds",
    "Files held by a source's quality gate, until re-landed or accepted.",
    (
        Column("source", "VARCHAR", "Source of the held file."),
        Column("file", "VARCHAR", "Landing file, relative to the raw directory."),
        Column("checksum", "VARCHAR", "The content that was held.", nullable=True),
        Column("reason", "VARCHAR", "Why the gate held it."),
        Column("held_at", "TIMESTAMP", "When it was held (UTC)."),
        Column("run_id", "VARCHAR", "Dagster run that held it.", nullable=True),
        Column("accepted_at", "TIMESTAMP", "When a person accepted it (UTC).", nullable=True),
        Column("accepted_by", "VARCHAR", "Who accepted it.", nullable=True),
    ),
)

# Customers erased on request (right to be forgotten). Their rows in later landing files are
# rejected at load time without keeping their values, so they never come back.
ERASED_CUSTOMERS = TableContract(
    "ops.erased_customers",
    "Customers erased on request (right to be forgotten); their later rows are rejected at load.",
    (
        Column("customer_id", "VARCHAR", "Erased customer (once each, kept by publication/erasure.py)."),
        Column("erased_at", "TIMESTAMP", "When they were erased (UTC)."),
    ),
)

OPS_TABLES = (LANDING_FILES, STAGING_REPLACEMENTS, GATE_HOLDS, ERASED_CUSTOMERS)


def quarantine_contract(source: str) -> TableContract:
    """`quarantine.<source>`: the rows a load rejected, with their file, row, rule and raw values."""
    return TableContract(
        f"quarantine.{source}",
        f"Rows of {source} rejected at load: file, row number, the failed rule and the raw values.",
        (
            Column(SOURCE_FILE, "VARCHAR", "Landing file, relative to the raw directory.", nullable=True),
            Column(ROW_NUMBER, "BIGINT", "Data row in the file (1 = first after the header).", nullable=True),
            Column(LANDING_DATE, "DATE", "Landing date from the file name.", nullable=True),
            Column("rule", "VARCHAR", "The rule the row failed.", nullable=True),
            Column(
                "raw_values",
                "VARCHAR",
                "The row as landed, as JSON (NULL for erased customers).",
                nullable=True,
            ),
            Column("quarantined_at", "TIMESTAMP", "When the row was quarantined (UTC).", nullable=True),
            Column("run_id", "VARCHAR", "Dagster run of the load.", nullable=True),
        ),
    )
