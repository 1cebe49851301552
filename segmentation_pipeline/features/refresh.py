"""Daily refresh of the feature tables: recompute only the customers whose inputs changed.

Features are per customer: a customer's row depends on their own rows in staging, on the
product catalogue (through the products they bought) and on the analysis date. Between two
builds a customer's row changes only if
- one of their rows was loaded since (a new day's files, a late file for a past day), or
- one of their events, or their master record's version or signup, falls between the two
  analysis dates (rows landed early with a future date come into view), or
- a product they bought changed (a new catalogue version loaded or come into view);
and for every other customer the analysis date moves their recency, tenure and age by exactly
the days (and years) between the two dates. So those customers are recomputed from staging with
the same code as a full build, the others shifted in place, in one transaction.

A full build runs instead when the difference is not known or not worth it: no previous build,
feature code changed, analysis date moved back, cost per effort point changed, a source appeared
or disappeared, landed files were replaced since (the removed rows' customers are not known), or
more than a quarter of the customers changed. `SEGMENTATION_FULL_REFRESH=1` forces one.
tests/unit/test_feature_refresh.py checks that day after day the refreshed tables equal a full
build.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import duckdb

from segmentation_pipeline.contracts import SOURCES
from segmentation_pipeline.contracts.tables import BUILD_STATE
from segmentation_pipeline.features import customer_features, inputs, order_features, source_features
from segmentation_pipeline.staging import reads as staging_reads
from segmentation_pipeline.staging.tables import LOADED_AT, ensure_source_tables, staging_table
from segmentation_pipeline.warehouse.tables import ensure_table, read_sql, table_exists

STATE_TABLE = BUILD_STATE.table
DELTA_TABLE = "_delta_customers"  # temporary: the customers an incremental build recomputes
FULL, INCREMENTAL = "full", "incremental"
MAX_INCREMENTAL_SHARE = 0.25  # above it a full build is about as fast, and simpler
_FINGERPRINTED = [
    *(Path(m.__file__) for m in (customer_features, inputs, order_features, source_features)),
    Path(staging_reads.__file__),
    Path(__file__),
]
_FINGERPRINTED_SQL = [
    "staging/customers_current", "staging/products_current", "features/order_lines", "features/order_aggregates",
    "features/top_codes", "features/changed_customers",
]  # fmt: skip


def code_fingerprint() -> str:
    """Changes whenever the code or SQL that computes a feature does (an upgrade rebuilds fully)."""
    digest = hashlib.blake2b(digest_size=12)
    for path in _FINGERPRINTED:
        digest.update(path.read_bytes())
    for name in _FINGERPRINTED_SQL:
        digest.update(read_sql(name).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class BuildState:
    """What a build was computed from (a row of features.build_state)."""

    as_of_date: dt.date
    loaded_through: dt.datetime | None
    cost_per_effort_point: float
    present_sources: tuple[str, ...]
    code_fingerprint: str


@dataclass(frozen=True)
class RefreshPlan:
    mode: str  # FULL or INCREMENTAL
    reason: str
    previous: BuildState | None


def plan_refresh(
    previous: BuildState | None, current: BuildState, replaced_since: bool, force_full: bool = False
) -> RefreshPlan:
    """Incremental when the previous build is a sound base for the current one, else full."""

    def full(reason: str) -> RefreshPlan:
        return RefreshPlan(FULL, reason, previous)

    if force_full:
        return full("full refresh requested (SEGMENTATION_FULL_REFRESH)")
    if previous is None:
        return full("no previous build")
    if previous.code_fingerprint != current.code_fingerprint:
        return full("the feature code changed since the previous build")
    if current.as_of_date < previous.as_of_date:
        return full(f"analysis date moved back ({previous.as_of_date} -> {current.as_of_date})")
    if previous.cost_per_effort_point != current.cost_per_effort_point:
        return full("cost per effort point changed")
    if previous.present_sources != current.present_sources:
        return full(
            f"sources present changed ({', '.join(previous.present_sources)} -> {', '.join(current.present_sources)})"
        )
    if replaced_since:
        return full("landed files were replaced since the previous build (re-landing)")
    days = (current.as_of_date - previous.as_of_date).days
    return RefreshPlan(INCREMENTAL, f"{days} day(s) on from the build of {previous.as_of_date}", previous)


def present_sources(conn: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    return tuple(name for name in SOURCES if staging_reads.has_rows(conn, name))


def loaded_through(conn: duckdb.DuckDBPyConnection, sources: tuple[str, ...]) -> dt.datetime | None:
    if not sources:
        return None
    newest = " UNION ALL ".join(f"SELECT max({LOADED_AT}) AS t FROM {staging_table(s)}" for s in sources)
    return conn.execute(f"SELECT max(t) FROM ({newest})").fetchall()[0][0]


def current_state(
    conn: duckdb.DuckDBPyConnection, as_of: dt.date, cost_per_effort_point: float
) -> BuildState:
    sources = present_sources(conn)
    return BuildState(
        as_of_date=as_of,
        loaded_through=loaded_through(conn, sources),
        cost_per_effort_point=cost_per_effort_point,
        present_sources=sources,
        code_fingerprint=code_fingerprint(),
    )


def previous_state(conn: duckdb.DuckDBPyConnection, tables: list[str]) -> BuildState | None:
    """The last build's state, or None when it or one of the feature `tables` is missing."""
    if not all(table_exists(conn, t) for t in [STATE_TABLE, *tables]):
        return None
    rows = conn.execute(
        f"""SELECT as_of_date, loaded_through, cost_per_effort_point, present_sources, code_fingerprint
            FROM {STATE_TABLE} ORDER BY built_at DESC LIMIT 1"""
    ).fetchall()
    if not rows:
        return None
    as_of, through, cost, sources, fingerprint = rows[0]
    return BuildState(as_of, through, cost, tuple(s for s in sources.split(",") if s), fingerprint)


def _loaded_since(state: BuildState) -> dt.datetime:
    """Rows loaded after this were not in the build of `state`."""
    return state.loaded_through or dt.datetime.min


def replaced_since(conn: duckdb.DuckDBPyConnection, state: BuildState) -> bool:
    """Were staging rows removed by a re-landing after the build of `state`?"""
    if not table_exists(conn, "ops.staging_replacements"):
        return False
    sql = "SELECT count(*) FROM ops.staging_replacements WHERE replaced_at > ?"
    return conn.execute(sql, [_loaded_since(state)]).fetchall()[0][0] > 0


def mark_changed_customers(conn: duckdb.DuckDBPyConnection, previous: BuildState, as_of: dt.date) -> int:
    """Fill the temporary table DELTA_TABLE with the customers to recompute; returns how many."""
    for source in SOURCES.values():  # the query reads every staging table (staging steps create them)
        if not table_exists(conn, staging_table(source.name)):
            ensure_source_tables(conn, source)
    conn.execute(
        read_sql("features/changed_customers"),
        {"since": _loaded_since(previous), "previous": previous.as_of_date, "as_of": as_of},
    )
    return conn.execute(f"SELECT count(*) FROM {DELTA_TABLE}").fetchall()[0][0]


def shift_to(conn: duckdb.DuckDBPyConnection, features_table: str, previous: dt.date, as_of: dt.date) -> None:
    """Move the unchanged customers' date-relative features from `previous` to `as_of`."""
    days, years = (as_of - previous).days, as_of.year - previous.year
    conn.execute(
        f"""UPDATE {features_table}
            SET as_of_date = ?, recency_days = recency_days + ?, tenure_days = tenure_days + ?, age = age + ?""",
        [as_of, days, days, years],
    )


def delete_changed(conn: duckdb.DuckDBPyConnection, table: str) -> None:
    conn.execute(f"DELETE FROM {table} WHERE customer_id IN (SELECT customer_id FROM {DELTA_TABLE})")


def record_build(
    conn: duckdb.DuckDBPyConnection, state: BuildState, plan: RefreshPlan, customers_recomputed: int
) -> None:
    """Replace features.build_state (inside the caller's transaction, with the tables)."""
    ensure_table(conn, BUILD_STATE)
    conn.execute(f"DELETE FROM {STATE_TABLE}")
    conn.execute(
        f"INSERT INTO {STATE_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            state.as_of_date,
            state.loaded_through,
            state.cost_per_effort_point,
            ",".join(state.present_sources),
            state.code_fingerprint,
            plan.mode,
            plan.reason,
            customers_recomputed,
            dt.datetime.now(dt.UTC).replace(tzinfo=None),
        ],
    )
