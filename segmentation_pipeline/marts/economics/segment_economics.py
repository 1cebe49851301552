"""Segment economics: one rule for value, cost to serve, ROI and the service priority of each segment.

The article's question (seed 004): when Joe and Sarah both have a service problem and there is
only room to solve one, who brings the better return on investment? Answered over one horizon,
the next 12 months, in the run's money (`value_basis`: margin when every counted order is costed,
else revenue; features/value_basis.py):

- value V (per customer: `clv_12m`): the expected 12-month value from the CLV model (already
  P(alive)-weighted). Unknown (null) when the CLV model did not run.
- cost C (per customer: `expected_cost_to_serve_12m`): tickets per year × mean effort score ×
  cost per effort point, from the customer's own history. Tickets per year = tickets to date ×
  365.25 / max(tenure_days, 365.25): a history shorter than a year is not multiplied up. A
  customer without a ticket costs 0; without the service source it is unknown (null), never 0.
- `cost_exceeds_value_12m` (per customer): C > V, the seeds' customers "who absorb more than any
  other resource"; null when either is unknown. Counted per segment.
- ROI = (ΣV − ΣC) / ΣC: a multiple of the 12-month cost to serve (1.5 = every unit of service
  cost brings 1.5 units of net value). Null when ΣC is 0 (no ticket: undefined) or unknown.
- service_priority: segments ranked by ROI, highest first (1 = serve first), ties by lower
  segment id; a segment without a ROI has no priority (null). Nothing is clipped or weighted:
  the priority is the ROI's order and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class EconomicsConfig:
    value_basis: str = "margin"  # margin | revenue: the money of V (features/value_basis.py)
    cost_per_effort_point: float = (
        2.0  # currency units per effort-score point (SEGMENTATION_COST_PER_EFFORT_POINT)
    )


def _column(df: pl.DataFrame, name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Float64) if name in df.columns else pl.lit(None, dtype=pl.Float64)


def customer_economics(profile: pl.DataFrame, cost_per_effort_point: float) -> pl.DataFrame:
    """Per customer: tickets_per_year, expected_cost_to_serve_12m, cost_exceeds_value_12m (the rule above)."""
    window_days = pl.max_horizontal(_column(profile, "tenure_days").fill_null(0.0), pl.lit(DAYS_PER_YEAR))
    tickets_per_year = _column(profile, "service_contacts") * DAYS_PER_YEAR / window_days
    # No ticket: the mean effort is null but the cost is 0 (tickets_per_year is 0, not unknown).
    effort = pl.when(tickets_per_year > 0).then(_column(profile, "mean_effort_score")).otherwise(0.0)
    cost = tickets_per_year * effort * cost_per_effort_point
    value = _column(profile, "clv_12m")
    return profile.select(
        "customer_id",
        tickets_per_year.alias("tickets_per_year"),
        cost.alias("expected_cost_to_serve_12m"),
        (cost > value).alias("cost_exceeds_value_12m"),
    )


def _sum_or_null(column: str) -> pl.Expr:
    """Σ over the known values; null when none is known (unknown, not 0)."""
    return pl.when(pl.col(column).count() > 0).then(pl.col(column).sum())


def segment_economics(
    profile_with_segment: pl.DataFrame, config: EconomicsConfig | None = None
) -> pl.DataFrame:
    """One row per segment_id: customers, money to date, 12-month value and cost, ROI, service priority."""
    config = config or EconomicsConfig()
    if config.value_basis not in ("margin", "revenue"):
        raise ValueError(f"value_basis must be margin or revenue, not {config.value_basis!r}")
    df = profile_with_segment
    if "customer_id" not in df.columns:
        df = df.with_row_index("customer_id")
    per_customer = customer_economics(df, config.cost_per_effort_point)
    agg = (
        df.select(
            "customer_id",
            "segment_id",
            _column(df, "monetary").fill_null(0.0).alias("revenue"),
            _column(df, "margin").alias("margin"),
            _column(df, "clv_12m").alias("clv_12m"),
            _column(df, "total_effort").alias("total_effort"),
            _column(df, "service_contacts").alias("service_contacts"),
            _column(df, "cost_to_serve").alias("cost_to_serve"),
        )
        .join(per_customer, on="customer_id", how="left")
        .group_by("segment_id")
        .agg(
            pl.len().alias("customers"),
            pl.col("revenue").sum(),
            _sum_or_null("margin").alias("margin"),
            _sum_or_null("clv_12m").alias("clv_12m_total"),
            pl.col("clv_12m").mean().alias("avg_clv_12m"),
            _sum_or_null("total_effort").alias("total_service_effort"),
            _sum_or_null("service_contacts").alias("service_tickets"),
            _sum_or_null("cost_to_serve").alias("cost_to_serve"),
            _sum_or_null("expected_cost_to_serve_12m").alias("expected_cost_to_serve_12m"),
            pl.when(pl.col("cost_exceeds_value_12m").count() > 0)
            .then(pl.col("cost_exceeds_value_12m").sum())
            .cast(pl.Int64)
            .alias("customers_cost_exceeds_value"),
        )
        .sort("segment_id")
    )
    value, cost = pl.col("clv_12m_total"), pl.col("expected_cost_to_serve_12m")
    roi = pl.when(cost > 0).then((value - cost) / cost)
    totals = agg.select(pl.col("customers").sum(), pl.col("revenue").sum(), pl.col("margin").sum()).row(0)
    out = agg.with_columns(
        roi.alias("roi"),
        (pl.col("customers") / max(totals[0], 1)).alias("customer_share"),
        (pl.col("revenue") / totals[1] if totals[1] else pl.lit(0.0)).alias("revenue_share"),
        (pl.col("margin") / totals[2] if totals[2] else pl.lit(0.0)).alias("margin_share"),
        # A segment without a ticket has no mean effort (null), not 0 / 0 = NaN.
        pl.when(pl.col("service_tickets") > 0)
        .then(pl.col("total_service_effort") / pl.col("service_tickets"))
        .alias("mean_effort_score"),
        (cost / pl.col("customers")).alias("expected_cost_to_serve_12m_per_customer"),
        (value / pl.col("customers")).alias("clv_12m_per_customer"),
    )
    return out.with_columns(service_priority=service_priority(out))


def service_priority(economics: pl.DataFrame) -> pl.Series:
    """1 = serve first: ROI descending, ties by lower segment id; null where there is no ROI."""
    ranked = (
        economics.select("segment_id", "roi")
        .filter(pl.col("roi").is_not_null())
        .sort(["roi", "segment_id"], descending=[True, False])
        .with_row_index("service_priority", offset=1)
    )
    joined = economics.select("segment_id").join(ranked, on="segment_id", how="left", maintain_order="left")
    return joined.get_column("service_priority").cast(pl.Int64)
