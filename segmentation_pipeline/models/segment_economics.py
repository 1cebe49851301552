"""Segment economics: revenue, margin, CLV, cost to serve, ROI and the service priority of each segment.

The article's question (seed 004): when Joe and Sarah both have a service problem and there is
only room to solve one, who brings the better return on investment? Answered per segment:

- value V: Σ value of the segment's customers on the run's value basis (margin where every cost
  is known, else revenue: features/value_basis.py), or Σ clv_12m (basis "clv"; falls back to
  the value basis when the CLV model refused to fit and every clv_12m is null).
- cost to serve C: Σ cost_to_serve (service effort points × cost per point, computed upstream per
  customer); when that column is empty but total_effort is known, effort × cost_per_effort_point.
  Null without service data (unknown, not free), and so is the ROI; the priority then ranks V per
  customer. Margin is null for a segment where no customer's margin is known.
- ROI = (V - C) / C: the net return per unit of service cost. Null when C = 0 (no service cost,
  the ratio is undefined), which the priority rule treats explicitly.
- priority_score = (V / customers) × clip(ROI, -1, roi_cap), with ROI taken as roi_cap when C = 0
  and V > 0, and as 0 when both are 0. It weighs "how much each customer brings" by "how much that
  returns per unit of service". service_priority ranks it: 1 = serve first. Ties: lower segment id.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class EconomicsConfig:
    roi_basis: str = "value"  # value (the run's value basis) | clv
    value_basis: str = "margin"  # margin | revenue: the money of V (features/value_basis.py)
    cost_per_effort_point: float = 5.0  # only used when cost_to_serve is missing but effort is known
    roi_cap: float = 20.0


def _column(df: pl.DataFrame, name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Float64) if name in df.columns else pl.lit(None, dtype=pl.Float64)


def segment_economics(
    profile_with_segment: pl.DataFrame, config: EconomicsConfig | None = None
) -> pl.DataFrame:
    """One row per segment_id: customers, revenue, margin, CLV, cost to serve, ROI, service priority."""
    config = config or EconomicsConfig()
    df = profile_with_segment
    # Null where the service source says nothing (absent): unknown, not free to serve.
    cost = (
        pl.when(_column(df, "cost_to_serve").is_not_null())
        .then(_column(df, "cost_to_serve"))
        .otherwise(_column(df, "total_effort") * config.cost_per_effort_point)
    )
    agg = (
        df.select(
            "segment_id",
            _column(df, "monetary").fill_null(0.0).alias("revenue"),
            _column(df, "margin").alias("margin"),
            _column(df, "clv_12m").alias("clv_12m"),
            _column(df, "total_effort").alias("total_effort"),
            cost.alias("cost_to_serve"),
        )
        .group_by("segment_id")
        .agg(
            pl.len().alias("customers"),
            pl.col("revenue").sum(),
            pl.when(pl.col("margin").count() > 0).then(pl.col("margin").sum()).alias("margin"),
            # Null-safe: null when every customer of the segment lacks a CLV (gate refused).
            pl.when(pl.col("clv_12m").count() > 0).then(pl.col("clv_12m").sum()).alias("clv_12m_total"),
            pl.col("clv_12m").mean().alias("avg_clv_12m"),
            pl.col("total_effort").sum(),
            # Null when no customer of the segment has a known cost (no service data), like margin.
            pl.when(pl.col("cost_to_serve").count() > 0)
            .then(pl.col("cost_to_serve").sum())
            .alias("cost_to_serve"),
        )
        .sort("segment_id")
    )
    use_clv = config.roi_basis == "clv" and agg.get_column("clv_12m_total").null_count() < agg.height
    if config.value_basis not in ("margin", "revenue"):
        raise ValueError(f"value_basis must be margin or revenue, not {config.value_basis!r}")
    basis = "clv_12m" if use_clv else config.value_basis
    value = pl.col("clv_12m_total").fill_null(0.0) if use_clv else pl.col(config.value_basis)
    roi = pl.when(pl.col("cost_to_serve") > 0).then(
        (value - pl.col("cost_to_serve")) / pl.col("cost_to_serve")
    )
    roi_for_rank = (
        pl.when(pl.col("cost_to_serve") > 0)
        .then(roi.clip(-1.0, config.roi_cap))
        .when(value > 0)
        .then(pl.lit(config.roi_cap))
        .otherwise(pl.lit(0.0))
    )
    totals = agg.select(pl.col("customers").sum(), pl.col("revenue").sum(), pl.col("margin").sum()).row(0)
    out = agg.with_columns(
        pl.lit(basis).alias("roi_basis"),
        value.alias("value"),
        roi.alias("roi"),
        (pl.col("customers") / max(totals[0], 1)).alias("customer_share"),
        (pl.col("revenue") / totals[1] if totals[1] else pl.lit(0.0)).alias("revenue_share"),
        (pl.col("margin") / totals[2] if totals[2] else pl.lit(0.0)).alias("margin_share"),
        (pl.col("revenue") / pl.col("customers")).alias("revenue_per_customer"),
        (pl.col("margin") / pl.col("customers")).alias("margin_per_customer"),
        (pl.col("cost_to_serve") / pl.col("customers")).alias("cost_to_serve_per_customer"),
        (value / pl.col("customers") * roi_for_rank).alias("priority_score"),
    )
    return out.with_columns(
        pl.struct(-pl.col("priority_score"), "segment_id")
        .rank("ordinal")
        .cast(pl.Int64)
        .alias("service_priority")
    )
