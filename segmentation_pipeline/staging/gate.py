"""Quality gates that hold: a file that failed its source's gate keeps it failing until a person acts.

A run whose rejected share passes the threshold (or that met an unreadable or suspicious file)
records a hold on each file responsible (`ops.gate_holds`). Every later run of that source fails
its check while a hold is open. A hold ends when the file is re-landed (the loader drops it and
judges the new content) or when someone accepts it (`python -m segmentation_pipeline accept`),
which is recorded with the time and the person.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from segmentation_pipeline.contracts.tables import GATE_HOLDS
from segmentation_pipeline.staging.outcome import FileOutcome, SourceLoad
from segmentation_pipeline.warehouse.tables import ensure_table


@dataclass(frozen=True)
class Hold:
    file: str
    reason: str
    held_at: dt.datetime
    run_id: str | None


def counted_rejections(outcome: FileOutcome, erased: int = 0) -> int:
    """Rejected rows that count toward the gate: not those declared expected, nor erased customers'."""
    return outcome.rows_quarantined - outcome.rows_expected - erased


def counted_share(load: SourceLoad) -> tuple[int, int, float]:
    """(rejected rows that count, rows received, their share): erased customers' rows are policy, not
    bad data, and do not count at all; rows declared expected are received but not counted as rejected."""
    received = load.rows_received - load.rows_erased
    rejected = load.rows_quarantined - load.rows_erased - load.rows_expected
    return rejected, received, rejected / received if received else 0.0


def files_to_hold(load: SourceLoad, share_failed: bool) -> list[tuple[str, str | None, str]]:
    """(file, checksum, reason) of the files this run's gate holds."""
    held = [(f.relpath, checksum, reason) for f, checksum, reason in load.suspicious]
    for outcome in load.outcomes:
        if outcome.rows_received is None:
            held.append((outcome.file.relpath, outcome.checksum, f"unreadable: {outcome.error}"))
        elif share_failed and (counted := counted_rejections(outcome)) > 0:
            reason = f"{counted}/{outcome.rows_received} rows rejected"
            held.append((outcome.file.relpath, outcome.checksum, reason))
    return held


def hold(
    conn: duckdb.DuckDBPyConnection, source: str, files: list[tuple[str, str | None, str]], run_id: str | None
) -> None:
    ensure_table(conn, GATE_HOLDS)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for file, checksum, reason in files:
        # Delete then insert (a new hold replaces an accepted one): DuckLake tables have no key for
        # INSERT OR REPLACE.
        conn.execute("DELETE FROM ops.gate_holds WHERE source = ? AND file = ?", [source, file])
        conn.execute(
            "INSERT INTO ops.gate_holds VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)",
            [source, file, checksum, reason, now, run_id],
        )


def open_holds(conn: duckdb.DuckDBPyConnection, source: str) -> list[Hold]:
    ensure_table(conn, GATE_HOLDS)
    rows = conn.execute(
        "SELECT file, reason, held_at, run_id FROM ops.gate_holds WHERE source = ? AND accepted_at IS NULL ORDER BY file",
        [source],
    ).fetchall()
    return [Hold(*row) for row in rows]


def accept(conn: duckdb.DuckDBPyConnection, source: str, file: str, who: str) -> str:
    """Accept the open hold on `file` (its path under raw/, or its bare name); returns the path.

    Raises LookupError naming the open holds when there is no such hold.
    """
    holds = open_holds(conn, source)
    matches = [h for h in holds if file in (h.file, h.file.split("/", 1)[-1])]
    if not matches:
        held = ", ".join(h.file for h in holds) or "none"
        raise LookupError(f"no open hold on {file!r} for source {source!r} (open holds: {held})")
    [match] = matches
    conn.execute(
        "UPDATE ops.gate_holds SET accepted_at = ?, accepted_by = ? WHERE source = ? AND file = ?",
        [dt.datetime.now(dt.UTC).replace(tzinfo=None), who, source, match.file],
    )
    return match.file
