"""Read one landing file into a frame of raw strings, keeping what cannot be read as row errors.

Every value is read as text so that a bad value is kept exactly as it arrived (for the quarantine)
and parsing is one explicit, reported step. A file that polars cannot read falls back to a slower
line-by-line reader that keeps the good rows and reports each broken one; only a file that cannot
be read at all is rejected whole.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

import polars as pl

from segmentation_pipeline.contracts.tables.ops import ROW_NUMBER
from segmentation_pipeline.staging.landing import LandingFile


@dataclass
class RawRead:
    """What one file gave: data rows as strings (with `_row_number`, 1-based, header excluded)."""

    rows: pl.DataFrame | None
    row_errors: list[tuple[int, str, str]] = field(default_factory=list)  # (row_number, rule, raw text)
    file_error: str | None = None  # the whole file is rejected for this reason
    rows_received: int | None = None  # None when the file could not be counted at all


def _as_strings(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.all().cast(pl.String))


def _with_row_numbers(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_row_index(ROW_NUMBER, offset=1).with_columns(pl.col(ROW_NUMBER).cast(pl.Int64))


def _fields(line: str) -> list[str]:
    return next(csv.reader([line.rstrip("\r\n")]), [])


def _csv_fallback(text: str) -> RawRead:
    """Parse a CSV that polars refused (or read into fewer rows than lines), physical line by line.

    Every line is accounted for: a row with the wrong field count is reported; a quoted value may
    span lines, unless a later line it swallows is a complete row by itself (an unclosed quote):
    then the line with the stray quote is reported and reading resumes on the next line.
    Row numbers are the data row's first physical line (header excluded), as in the fast path.
    """
    lines = text.splitlines(keepends=True)  # the csv module needs them to keep line breaks inside quotes
    if not lines:
        return RawRead(rows=None, file_error="empty file (no header row)", rows_received=0)
    header = _fields(lines[0])
    width = len(header)
    good: list[list[str]] = []
    numbers: list[int] = []
    errors = []
    index = 1
    while index < len(lines):
        number, line = index, lines[index].rstrip("\r\n")
        if not line.strip():
            index += 1
            continue
        reader = csv.reader(iter(lines[index:]))
        fields = next(reader)
        spanned = reader.line_num
        continuation = lines[index + 1 : index + spanned]
        swallowed = any(len(_fields(part)) == width and '"' not in part for part in continuation)
        if spanned > 1 and (swallowed or len(fields) != width):
            errors.append(
                (number, "malformed row: unclosed quote (the value runs past the end of the line)", line)
            )
            index += 1
            continue
        index += spanned
        if len(fields) != width:
            errors.append((number, f"malformed row: {len(fields)} fields, header has {width}", line))
        else:
            good.append(fields)
            numbers.append(number)
    frame = (
        pl.DataFrame(good, schema=header, orient="row")
        if good
        else pl.DataFrame(schema=dict.fromkeys(header, pl.String))
    )
    frame = frame.with_columns(pl.Series(ROW_NUMBER, numbers, dtype=pl.Int64))
    return RawRead(rows=frame, row_errors=errors, rows_received=len(good) + len(errors))


def _last_line_is_truncated(data: bytes, header_fields: int) -> tuple[bool, str]:
    """A file that does not end with a newline and whose last line is short was cut mid-row."""
    if not data or data.endswith(b"\n"):
        return False, ""
    last = data.rsplit(b"\n", 1)[-1].decode("utf-8", errors="replace")
    fields = next(csv.reader([last]), [])
    return len(fields) < header_fields, last


def _physical_lines(data: bytes) -> int:
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def read_csv(file: LandingFile) -> RawRead:
    data = file.path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark is not part of the first column's name
        data = data[3:]
    if not data.strip():
        return RawRead(rows=None, file_error="empty file (no header row)", rows_received=0)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        # Keep the rows (decoded lossily) so they are quarantined one by one, nothing lost silently.
        lossy = data.decode("utf-8", errors="replace")
        read = _csv_fallback(lossy)
        reason = f"file is not valid UTF-8 (byte {error.start}: {data[error.start : error.start + 1]!r})"
        if read.rows is not None:
            read.row_errors += [
                (row[ROW_NUMBER], reason, json.dumps({k: v for k, v in row.items() if k != ROW_NUMBER}))
                for row in read.rows.iter_rows(named=True)
            ]
            read.rows = read.rows.clear()
        return read
    try:
        frame = pl.read_csv(io.BytesIO(data), infer_schema=False)
    except pl.exceptions.PolarsError:
        return _csv_fallback(text)
    if frame.height + 1 != _physical_lines(data.rstrip(b"\r\n") + b"\n"):
        # Fewer rows than lines: a quoted value spans lines. Legitimate (a comment on two lines) or
        # an unclosed quote swallowing the rows after it; the line-by-line reader tells them apart.
        return _csv_fallback(text)
    frame = _with_row_numbers(frame)
    # A blank line is not a row (polars reads it as all nulls); numbering keeps file positions.
    blank = pl.all_horizontal(pl.exclude(ROW_NUMBER).is_null())
    if frame.select(blank.any()).item():
        frame = frame.filter(~blank)
    read = RawRead(rows=frame, rows_received=frame.height)
    truncated, last = _last_line_is_truncated(data, len(frame.columns) - 1)
    if truncated and frame.height:
        read.row_errors.append(
            (
                frame[ROW_NUMBER][-1],
                "truncated file: last row is incomplete (no end of line, too few fields)",
                last,
            )
        )
        read.rows = frame.head(frame.height - 1)
    return read


def read_parquet(file: LandingFile) -> RawRead:
    try:
        frame = pl.read_parquet(file.path)
    except Exception as error:  # noqa: BLE001 - any failure means the file is unreadable; say why
        return RawRead(rows=None, file_error=f"unreadable Parquet file: {error}".splitlines()[0])
    return RawRead(rows=_with_row_numbers(_as_strings(frame)), rows_received=frame.height)


def read_jsonl(file: LandingFile) -> RawRead:
    data = file.path.read_bytes()
    if not data.strip():
        return RawRead(rows=None, file_error="empty file", rows_received=0)
    try:
        frame = pl.read_ndjson(io.BytesIO(data), infer_schema_length=None)
        return RawRead(rows=_with_row_numbers(_as_strings(frame)), rows_received=frame.height)
    except pl.exceptions.PolarsError:
        pass
    # Line by line: keep every object that parses, report every line that does not.
    records, numbers, errors = [], [], []
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
        except ValueError as error:
            errors.append((number, f"malformed JSON line: {error}", line[:500]))
            continue
        records.append({k: None if v is None else str(v) for k, v in record.items()})
        numbers.append(number)
    frame = pl.DataFrame(records, infer_schema_length=None) if records else pl.DataFrame()
    frame = _as_strings(frame).with_columns(pl.Series(ROW_NUMBER, numbers, dtype=pl.Int64))
    return RawRead(rows=frame, row_errors=errors, rows_received=len(records) + len(errors))


READERS = {"csv": read_csv, "parquet": read_parquet, "jsonl": read_jsonl}


def read_landing_file(file: LandingFile) -> RawRead:
    if file.name_error:
        return RawRead(rows=None, file_error=file.name_error)
    try:
        return READERS[file.fmt](file)
    except OSError as error:  # permission denied, I/O error: this file is rejected, not the run
        return RawRead(rows=None, file_error=f"cannot read the file: {error.strerror or error}")
