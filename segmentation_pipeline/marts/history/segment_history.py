"""Segment history and migrations: who sat in which segment on each run, and who moved where.

`marts.segment_history` keeps one row per customer and run. `marts.segment_migrations` counts, per
run, the customers (and their revenue) going from one segment to another, for two kinds of
segment told apart by the column `kind`:
- "segment": behavioural segments, ids written as text ("3"; prospects are "0");
- "rfm": RFM segments ("Champions" -> "At Risk").
Rows with from_segment == to_segment are customers who stayed (so shares of stayers can be read
directly). A customer first seen in this run has from_segment null ("new"), which is every
customer on the first run; a customer who vanished from the base has to_segment null.
"""

from __future__ import annotations

from datetime import date

import polars as pl

HISTORY_SCHEMA = {
    "customer_id": pl.String,
    "as_of_date": pl.Date,
    "segment_id": pl.Int64,
    "rfm_segment": pl.String,
}
MIGRATION_SCHEMA = {
    "as_of_date": pl.Date,
    "kind": pl.String,
    "from_segment": pl.String,
    "to_segment": pl.String,
    "customers": pl.Int64,
    "revenue": pl.Float64,
}


def history_rows(assignment_with_rfm: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Rows of marts.segment_history for one run: customer_id, as_of_date, segment_id, rfm_segment."""
    df = assignment_with_rfm
    rfm = (
        pl.col("rfm_segment").cast(pl.String)
        if "rfm_segment" in df.columns
        else pl.lit(None, dtype=pl.String)
    )
    return df.select(
        pl.col("customer_id").cast(pl.String),
        pl.lit(as_of, dtype=pl.Date).alias("as_of_date"),
        pl.col("segment_id").cast(pl.Int64),
        rfm.alias("rfm_segment"),
    ).sort("customer_id")


def _latest_before(history: pl.DataFrame | None, as_of: date) -> pl.DataFrame:
    """The previous run's rows: the latest as_of_date strictly before this run (whole tables welcome)."""
    if history is None or history.height == 0:
        return pl.DataFrame(schema=HISTORY_SCHEMA)
    earlier = history.filter(pl.col("as_of_date") < as_of)
    if earlier.height == 0:
        return pl.DataFrame(schema=HISTORY_SCHEMA)
    return earlier.filter(pl.col("as_of_date") == pl.col("as_of_date").max()).select(list(HISTORY_SCHEMA))


def migrations(
    previous_history: pl.DataFrame | None,
    current_history: pl.DataFrame,
    revenue_by_customer: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Rows of marts.segment_migrations for the current run (as_of_date of current_history).

    revenue_by_customer [customer_id, revenue] gives each mover's revenue (today's monetary);
    missing customers count 0.
    """
    if current_history.height == 0:
        return pl.DataFrame(schema=MIGRATION_SCHEMA)
    as_of = current_history.get_column("as_of_date").max()
    previous = _latest_before(previous_history, as_of)
    current = current_history.filter(pl.col("as_of_date") == as_of)
    moves = current.select("customer_id", "segment_id", "rfm_segment").join(
        previous.select(
            "customer_id",
            pl.col("segment_id").alias("previous_segment_id"),
            pl.col("rfm_segment").alias("previous_rfm_segment"),
        ),
        on="customer_id",
        how="full",
        coalesce=True,
    )
    if revenue_by_customer is not None:
        revenue = revenue_by_customer.select(
            pl.col("customer_id").cast(pl.String), pl.col("revenue").cast(pl.Float64)
        ).unique("customer_id", keep="first")
        moves = moves.join(revenue, on="customer_id", how="left")
    else:
        moves = moves.with_columns(pl.lit(None, dtype=pl.Float64).alias("revenue"))
    moves = moves.with_columns(pl.col("revenue").fill_null(0.0))

    def count(kind: str, before: pl.Expr, after: pl.Expr) -> pl.DataFrame:
        return (
            moves.select(before.alias("from_segment"), after.alias("to_segment"), "revenue")
            .group_by("from_segment", "to_segment")
            .agg(pl.len().cast(pl.Int64).alias("customers"), pl.col("revenue").sum())
            .with_columns(pl.lit(as_of, dtype=pl.Date).alias("as_of_date"), pl.lit(kind).alias("kind"))
        )

    segment = count(
        "segment", pl.col("previous_segment_id").cast(pl.String), pl.col("segment_id").cast(pl.String)
    )
    rfm = count("rfm", pl.col("previous_rfm_segment"), pl.col("rfm_segment"))
    return (
        pl.concat([segment, rfm])
        .select(list(MIGRATION_SCHEMA))
        .sort(["kind", "from_segment", "to_segment"], nulls_last=False)
    )


def compare_with_previous(
    previous: pl.DataFrame, current: pl.DataFrame, revenue: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(migrations, changed history rows) of this run against each customer's previous segments.

    `previous`: the latest history row per customer before this run (whatever its date);
    `current`: `history_rows` of this run; `revenue`: customer_id, revenue. Only customers whose
    segments changed get a history row.
    """
    if previous.height:
        # One "previous run" for the comparison, whatever date each customer's last change had.
        previous = previous.with_columns(as_of_date=pl.lit(previous["as_of_date"].max(), pl.Date))
    moves = migrations(previous, current, revenue)
    changed = current.join(
        previous, on=["customer_id", "segment_id", "rfm_segment"], how="anti", nulls_equal=True
    )
    return moves, changed
