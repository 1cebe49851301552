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
from segmentation_pipeline.contracts.tables.ops import LANDING_DATE, ROW_NUMBER, SOURCE_FILE

# A rejected row as every rejection path hands it to the quarantine table.
QUARANTINE_ROW_SCHEMA = {
    SOURCE_FILE: pl.String,
    ROW_NUMBER: pl.Int64,
    LANDING_DATE: pl.Date,
    "rule": pl.String,
    "raw_values": pl.String,
}
POSITION = "_position"
# Larger amounts are not data but accidents (1e300 reaches k-means as infinity once squared).
MAX_MAGNITUDE = 1e12
_TRUE = ["true", "1", "yes", "y", "t"]
_FALSE = ["false", "0", "no", "n", "f"]


def parse_timestamp(text: pl.Expr) -> pl.Expr:
    """ISO 8601 text → naive UTC timestamp (an explicit offset is converted; no offset means UTC)."""

    def with_offset(fmt: str) -> pl.Expr:
        parsed = text.str.to_datetime(fmt, strict=False, time_unit="us", time_zone="UTC")
        return parsed.dt.replace_time_zone(None)

    def naive(fmt: str) -> pl.Expr:
        return text.str.to_datetime(fmt, strict=False, time_unit="us")

    text = text.str.to_uppercase()  # "t" and "z" are ISO 8601 too
    # 'T' or space; with seconds (and fractions) or without; with an offset (Z, +02, +0200, +02:00) or not.
    forms = [f"%Y-%m-%d{sep}{time}" for sep in ("T", " ") for time in ("%H:%M:%S%.f", "%H:%M")]
    return pl.coalesce(
        *[parsed for form in forms for parsed in (with_offset(f"{form}%#z"), naive(form))],
        text.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us")),
    )


def parse_column(text: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Text → `dtype`, null where the text is not a valid value of that type (surrounding blanks allowed)."""
    if dtype == pl.String:
        return text
    text = text.str.strip_chars()
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
        # "inf"/"nan" are not amounts, nor is 1e300.
        return pl.when(number.is_finite() & (number.abs() <= MAX_MAGNITUDE)).then(number)
    raise TypeError(f"no parser for {dtype}")


def _fast_parse(text: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """The common spelling of each type, parsed at native speed; anything else is left to parse_column."""
    if dtype == pl.Datetime:
        return text.str.to_datetime("%Y-%m-%dT%H:%M:%S", strict=False, time_unit="us")
    if dtype.is_integer():
        return text.cast(dtype, strict=False)
    return parse_column(text, dtype)


def _type_name(dtype: pl.DataType) -> str:
    if dtype == pl.Datetime:
        return "ISO 8601 timestamp"
    if dtype == pl.Date:
        return "YYYY-MM-DD date"
    if dtype == pl.Boolean:
        return "true/false value"
    return (
        "whole number" if dtype.is_integer() else f"number between -{MAX_MAGNITUDE:g} and {MAX_MAGNITUDE:g}"
    )


RULES_SCHEMA = {POSITION: pl.UInt32, "_rule": pl.String}


def parse_rows(raw: pl.DataFrame, contract: SourceContract) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Typed contract columns (+ lineage, `_position`) and the parse failures as (`_position`, `_rule`).

    Each column is parsed in two passes: the common spelling for every row (fast), then the full
    parser only for the few rows the first pass could not read (offsets, fractions, "3.0"...).
    """

    # Text is kept as received (no stripping: it costs more than all the parsing); an empty value is null.
    def present(name: str) -> pl.Expr:
        return pl.col(name).str.len_bytes().fill_null(0) > 0

    def text(name: str) -> pl.Expr:
        if name in contract.id_columns:  # " c1 " and "c1" are one customer
            trimmed = pl.col(name).str.strip_chars()
            return pl.when(trimmed.str.len_bytes() > 0).then(trimmed)
        return pl.when(present(name)).then(pl.col(name))

    typed = raw.select(
        POSITION,
        *[
            (text(c) if t == pl.String else _fast_parse(pl.col(c), t)).alias(c)
            for c, t in contract.columns.items()
        ],
    )
    failures = []
    for name, dtype in contract.columns.items():
        if dtype == pl.String:
            continue
        missed = raw.select(present(name) & typed[name].is_null()).to_series().arg_true()
        if missed.len() == 0:
            continue
        # Only the few rows the fast pass could not read go through the full parser.
        retried = pl.select(parse_column(pl.lit(raw[name].gather(missed)), dtype)).to_series()
        typed = typed.with_columns(typed[name].scatter(missed, retried))
        still_missing = missed.filter(retried.is_null())
        rule = f"parse:{name} (not a {_type_name(dtype)})"
        failures.append(
            pl.DataFrame(
                {POSITION: typed[POSITION].gather(still_missing), "_rule": [rule] * still_missing.len()},
                schema=RULES_SCHEMA,
            )
        )
    typed = typed.with_columns(raw.select(SOURCE_FILE, ROW_NUMBER, LANDING_DATE))
    return typed, pl.concat(failures) if failures else pl.DataFrame(schema=RULES_SCHEMA)


def _rule_name(schema_context: str, column: str | None, check: str) -> str:
    if schema_context == "DataFrameSchema":
        return check
    if check == "not_nullable":
        return f"missing:{column} (required value is empty)"
    return f"{column}: {check}"


def pandera_failures(typed: pl.DataFrame, contract: SourceContract) -> pl.DataFrame:
    """Rows of `typed` that break the Pandera model, as (`_position`, `_rule`)."""
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
        positions = typed[POSITION].gather(cases["index"].cast(pl.UInt32))
        return pl.DataFrame({POSITION: positions, "_rule": rules}, schema=RULES_SCHEMA).unique(
            maintain_order=True
        )
    return pl.DataFrame(schema=RULES_SCHEMA)


def _duplicates(valid: pl.DataFrame, contract: SourceContract) -> pl.DataFrame:
    """Rows of `valid` that repeat a key, as (`_position`, `_rule`).

    `valid` is in landing order (files by landing date, rows by row number), so for events the
    first occurrence wins (the earliest landed). Customers and products may carry one version per
    file, so their key is per file, and within a file the latest `updated_at` wins (then the first).
    """
    scope = list(contract.keys) + ([SOURCE_FILE] if contract.upsert_by_updated_at else [])
    ranked = valid.select(POSITION, SOURCE_FILE, ROW_NUMBER, *[c for c in scope if c != SOURCE_FILE],
                          *(["updated_at"] if contract.upsert_by_updated_at else []))  # fmt: skip
    if contract.upsert_by_updated_at:
        ranked = ranked.sort("updated_at", descending=True, nulls_last=True, maintain_order=True)
    first = ranked.select(pl.struct(scope).is_first_distinct()).to_series()
    if first.all():
        return pl.DataFrame(schema=RULES_SCHEMA)
    later = ranked.filter(~first)
    winners = (
        ranked.filter(first)
        .join(later.select(scope).unique(), on=scope)
        .select(*scope, pl.format("{} row {}", SOURCE_FILE, ROW_NUMBER).alias("_winner"))
    )
    seen = "a newer version is in" if contract.upsert_by_updated_at else "first seen in"
    rule = pl.format(f"duplicate key ({', '.join(contract.keys)}): {seen} {{}}", "_winner")
    return later.join(winners, on=scope, how="left").select(POSITION, rule.alias("_rule"))


def _disagreeing_groups(valid: pl.DataFrame, contract: SourceContract) -> pl.DataFrame:
    """Every row of a group (an order) whose rows disagree on a column (the customer), as (`_position`, `_rule`)."""
    if contract.same_value_within is None or valid.height == 0:
        return pl.DataFrame(schema=RULES_SCHEMA)
    group, column = contract.same_value_within
    # Count first (cheap), name the customers only for the few orders that disagree.
    groups = valid.group_by(group).agg(pl.col(column).n_unique().alias("_n")).filter(pl.col("_n") > 1)
    if groups.height == 0:
        return pl.DataFrame(schema=RULES_SCHEMA)
    conflicts = (
        valid.join(groups.select(group), on=group)
        .group_by(group)
        .agg(pl.col(column).unique().sort().str.join(", ").alias("_values"))
    )
    rule = pl.format(f"{group} lines disagree on {column} ({{}}): whole {group} rejected", "_values")
    return valid.join(conflicts, on=group).select(POSITION, rule.alias("_rule")).cast(RULES_SCHEMA)


def validate_rows(raw: pl.DataFrame, contract: SourceContract) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split raw string rows (in landing order) into (rows to load, typed; rows to quarantine).

    Quarantined rows carry `rule` (every rule they failed, '; '-separated) and `raw_values` (JSON).
    """
    raw = raw.with_row_index(POSITION)
    typed, parse_failures = parse_rows(raw, contract)
    # Pandera sees only rows that parsed: a value that is not a number has no range to check.
    clean = typed.join(parse_failures, on=POSITION, how="anti") if parse_failures.height else typed
    rule_failures = pandera_failures(clean, contract)
    valid = clean.join(rule_failures, on=POSITION, how="anti") if rule_failures.height else clean
    reasons = pl.concat(
        [parse_failures, rule_failures, _duplicates(valid, contract), _disagreeing_groups(valid, contract)]
    )
    good = valid.join(reasons, on=POSITION, how="anti") if reasons.height else valid
    per_row = reasons.group_by(POSITION, maintain_order=True).agg(
        pl.col("_rule").str.join("; ").alias("rule")
    )
    raw_columns = [c for c in contract.columns if c in raw.columns]
    bad = (
        raw.join(per_row, on=POSITION)
        .select(
            SOURCE_FILE,
            ROW_NUMBER,
            LANDING_DATE,
            "rule",
            pl.struct(raw_columns).struct.json_encode().alias("raw_values"),
        )
        .sort(SOURCE_FILE, ROW_NUMBER)
    )
    return good.drop(POSITION), bad


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
        schema=QUARANTINE_ROW_SCHEMA,
    )
