"""Parse raw string rows into the contract's types and validate them with the source's Pandera model.

Produces the rows to load and the rows to quarantine, each quarantined row with every rule it
failed. Three stages, each reported with its own rule names:
  1. parse      — `parse:<column> (not a <type>)`: a value that is not a number/date/timestamp/bool;
  2. Pandera    — `<column>: <check>` or `<rule name>` for cross-field rules (the model's own names);
  3. keys       — `duplicate key (...)`: the key was already seen earlier in the batch (first wins).
"""

from __future__ import annotations

import json

import pandera.errors
import polars as pl

from segmentation_pipeline.contracts import SourceContract
from segmentation_pipeline.contracts.models import LANDING_DATE
from segmentation_pipeline.ingest.readers import ROW_NUMBER

SOURCE_FILE = "_source_file"
REASONS = "_reasons"
_TRUE = ["true", "1", "yes", "y", "t"]
_FALSE = ["false", "0", "no", "n", "f"]


def parse_timestamp(text: pl.Expr) -> pl.Expr:
    """ISO 8601 text → naive UTC timestamp (an explicit offset is converted; no offset means UTC)."""

    def with_offset(fmt: str) -> pl.Expr:
        parsed = text.str.to_datetime(fmt, strict=False, time_unit="us", time_zone="UTC")
        return parsed.dt.replace_time_zone(None)

    return pl.coalesce(
        with_offset("%Y-%m-%dT%H:%M:%S%.f%#z"),
        with_offset("%Y-%m-%d %H:%M:%S%.f%#z"),
        text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us"),
        text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="us"),
        text.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us")),
    )


def parse_column(text: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Text → `dtype`, null where the text is not a valid value of that type."""
    text = text.str.strip_chars()
    if dtype == pl.String:
        return text
    if dtype == pl.Datetime:
        return parse_timestamp(text)
    if dtype == pl.Date:
        return text.str.to_date("%Y-%m-%d", strict=False)
    if dtype == pl.Boolean:
        lowered = text.str.to_lowercase()
        return pl.when(lowered.is_in(_TRUE)).then(True).when(lowered.is_in(_FALSE)).then(False)
    if dtype.is_integer():
        # Reject "3.5" rather than truncating it; "3.0" from JSON numbers is accepted.
        number = text.cast(pl.Float64, strict=False)
        whole = number.is_finite() & (number == number.round(0))
        return pl.when(whole).then(text.str.replace(r"\.0+$", "").cast(dtype, strict=False))
    if dtype.is_float():
        number = text.cast(dtype, strict=False)
        return pl.when(number.is_finite()).then(number)  # "inf"/"nan" are not amounts
    raise TypeError(f"no parser for {dtype}")


def _type_name(dtype: pl.DataType) -> str:
    if dtype == pl.Datetime:
        return "ISO 8601 timestamp"
    if dtype == pl.Date:
        return "YYYY-MM-DD date"
    if dtype == pl.Boolean:
        return "true/false value"
    return "whole number" if dtype.is_integer() else "number"


def parse_rows(raw: pl.DataFrame, contract: SourceContract) -> pl.DataFrame:
    """Typed contract columns + helper columns + `_reasons` (list of parse failures, empty if none)."""
    exprs, failures = [], []
    for name, dtype in contract.columns.items():
        raw_text = pl.col(name).str.strip_chars()
        given = raw_text.is_not_null() & (raw_text != "")
        parsed = parse_column(pl.col(name), dtype)
        exprs.append(pl.when(given).then(parsed).alias(name))
        if dtype != pl.String:
            rule = f"parse:{name} (not a {_type_name(dtype)})"
            failures.append(pl.when(given & parsed.is_null()).then(pl.lit(rule)))
    reasons = pl.concat_list(failures).list.drop_nulls() if failures else pl.lit([], dtype=pl.List(pl.String))
    return raw.select(*exprs, SOURCE_FILE, ROW_NUMBER, LANDING_DATE, reasons.alias(REASONS))


def _rule_name(schema_context: str, column: str | None, check: str) -> str:
    if schema_context == "DataFrameSchema":
        return check
    if check == "not_nullable":
        return f"missing:{column} (required value is empty)"
    return f"{column}: {check}"


def pandera_failures(typed: pl.DataFrame, contract: SourceContract) -> pl.DataFrame:
    """Rows (by position in `typed`) that break the Pandera model: columns `_position`, `_rule`."""
    try:
        contract.model.validate(typed, lazy=True)
    except pandera.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        schema_level = cases.filter(pl.col("index").is_null())
        if schema_level.height:
            # Column types are ours to get right (parse_rows); a schema-level failure is a bug, not bad data.
            raise RuntimeError(
                f"{contract.name}: schema-level validation failure: {schema_level.to_dicts()}"
            ) from errors
        rules = [
            _rule_name(ctx, col, check)
            for ctx, col, check in cases.select("schema_context", "column", "check").iter_rows()
        ]
        return pl.DataFrame({"_position": cases["index"].cast(pl.Int64), "_rule": rules}).unique(
            maintain_order=True
        )
    return pl.DataFrame(schema={"_position": pl.Int64, "_rule": pl.String})


def validate_rows(raw: pl.DataFrame, contract: SourceContract) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split raw string rows into (rows to load, typed; rows to quarantine with `_reasons`)."""
    typed = parse_rows(raw, contract).with_row_index("_position")
    clean = typed.filter(pl.col(REASONS).list.len() == 0)
    failures = pandera_failures(clean.drop("_position", REASONS), contract)
    if failures.height:
        positions = clean.select("_position").with_row_index("_clean_position")
        failures = (
            failures.rename({"_position": "_clean_position"})
            .with_columns(pl.col("_clean_position").cast(pl.UInt32))
            .join(positions, on="_clean_position")
            .group_by("_position")
            .agg(pl.col("_rule").alias("_pandera"))
        )
        typed = (
            typed.join(failures, on="_position", how="left")
            .with_columns(pl.concat_list(REASONS, pl.col("_pandera").fill_null([])).alias(REASONS))
            .drop("_pandera")
        )
    # Duplicates only compete among rows that are otherwise valid; the first occurrence wins.
    sort_keys = [LANDING_DATE, SOURCE_FILE, ROW_NUMBER]
    typed = typed.sort(sort_keys)
    valid = pl.col(REASONS).list.len() == 0
    key_scope = list(contract.keys) + ([SOURCE_FILE] if contract.upsert_by_updated_at else [])
    is_duplicate = valid & (pl.int_range(pl.len()).over(pl.when(valid).then(pl.struct(key_scope))) > 0)
    first_seen = (
        pl.format("{} row {}", pl.col(SOURCE_FILE), pl.col(ROW_NUMBER))
        .first()
        .over(pl.when(valid).then(pl.struct(key_scope)))
    )
    rule = pl.format(f"duplicate key ({', '.join(contract.keys)}): first seen in {{}}", first_seen)
    typed = typed.with_columns(
        pl.when(is_duplicate).then(pl.concat_list(REASONS, rule)).otherwise(REASONS).alias(REASONS)
    )
    good = typed.filter(pl.col(REASONS).list.len() == 0).drop("_position", REASONS)
    bad_positions = typed.filter(pl.col(REASONS).list.len() > 0).select("_position", REASONS)
    raw_columns = [c for c in contract.columns if c in raw.columns]
    bad = (
        raw.with_row_index("_position")
        .join(bad_positions, on="_position")
        .select(
            SOURCE_FILE,
            ROW_NUMBER,
            LANDING_DATE,
            pl.col(REASONS).list.join("; ").alias("rule"),
            pl.struct(raw_columns).struct.json_encode().alias("raw_values"),
        )
        .sort(SOURCE_FILE, ROW_NUMBER)
    )
    return good, bad


def error_rows(errors: list[tuple[int, str, str]], source_file: str, landing_date) -> pl.DataFrame:
    """Rows a reader could not turn into fields, in the quarantine's shape."""
    return pl.DataFrame(
        {
            SOURCE_FILE: [source_file] * len(errors),
            ROW_NUMBER: [e[0] for e in errors],
            LANDING_DATE: [landing_date] * len(errors),
            "rule": [e[1] for e in errors],
            "raw_values": [json.dumps({"_line": e[2]}) for e in errors],
        },
        schema={
            SOURCE_FILE: pl.String,
            ROW_NUMBER: pl.Int64,
            LANDING_DATE: pl.Date,
            "rule": pl.String,
            "raw_values": pl.String,
        },
    )
