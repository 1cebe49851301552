"""A segment summarised for its persona: means, medians, modes and survey counts per segment, and the
whole base summarised alike (the yardstick for 'high' and 'low')."""

from __future__ import annotations

import math

import polars as pl

from segmentation_pipeline.contracts import enums
from segmentation_pipeline.models.segmentation.clustering import SURVEY_COLUMNS, ensure_profile_columns

MEAN_COLUMNS = [
    "share_online",
    "share_store",
    "share_phone",
    "occasion_share",
    "discount_share",
    "brand_concentration",
    "return_rate",
    "late_payment_share",
    "mean_days_late",
    "mean_effort_score",
    "engagement_rate",
    "p_alive",
    "clv_12m",
    "satisfaction",
    "nps",
    *enums.IMPORTANCE_COLUMNS,
]
# Null without the service source (the features give 0 to a customer it has no ticket for).
SERVICE_MEAN_COLUMNS = ["service_contacts", "total_effort", "cost_to_serve", "unresolved_tickets"]
MEDIAN_COLUMNS = [
    "age",
    "avg_order_value",
    "frequency",
    "monetary",
    "mean_days_between_orders",
    "recency_days",
    "tenure_days",
    "social_followers",
    "social_platforms",
    "brand_mentions_90d",
]
MODE_COLUMNS = [
    "gender",
    "web_savviness",
    "preferred_channel",
    "influence_tier",
    "main_motivation",
    "main_barrier",
    "discovery_channel",
    "brand_perception",
    "top_category",
    "top_brand",
    "loyalty_class",
    "rfm_segment",
    "lifecycle_stage",
]


def _f(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Float64)


def segment_profiles(profile_with_segment: pl.DataFrame) -> pl.DataFrame:
    """One row per segment_id with what the stories need: means, medians, modes, survey counts."""
    df = ensure_profile_columns(profile_with_segment)
    survey = [c for c in SURVEY_COLUMNS if c in df.columns]
    numeric = df.group_by("segment_id").agg(
        pl.len().alias("customers"),
        *[_f(c).mean().alias(c) for c in MEAN_COLUMNS if c in df.columns],
        *[_f(c).mean().alias(c) for c in SERVICE_MEAN_COLUMNS if c in df.columns],
        # Customers with an order line at all (cancel_rate is null only without one): prospects who
        # ordered and returned or cancelled everything are not "yet to buy".
        (
            pl.col("cancel_rate").is_not_null().mean()
            if "cancel_rate" in df.columns
            else pl.lit(None, pl.Float64)
        ).alias("ordered_share"),
        *[_f(c).median().alias(c) for c in MEDIAN_COLUMNS if c in df.columns],
        (
            _f("social_followers").is_not_null().mean() if "social_followers" in df.columns else pl.lit(0.0)
        ).alias("social_known"),
        (pl.any_horizontal([pl.col(c).is_not_null() for c in survey]).sum() if survey else pl.lit(0)).alias(
            "respondents"
        ),
        # NPS as the survey industry reads it: % promoters (9-10) minus % detractors (0-6).
        ((_f("nps") >= 9).mean() - (_f("nps") <= 6).mean()).mul(100).alias("nps_score"),
    )
    for column in MODE_COLUMNS:
        if column not in df.columns:
            continue
        counts = (
            df.select("segment_id", pl.col(column).cast(pl.String))
            .drop_nulls(column)
            .group_by("segment_id", column)
            .len()
            .with_columns(pl.col("len").sum().over("segment_id").alias("total"))
            .sort(["segment_id", "len", column], descending=[False, True, False])
        )
        top = counts.group_by("segment_id", maintain_order=True).agg(
            pl.col(column).first().alias(column),
            (pl.col("len").first() / pl.col("total").first()).alias(f"{column}_share"),
            pl.col("total").first().alias(f"{column}_n"),
            pl.format(
                "{} {}%", pl.col(column), (pl.col("len") * 100 / pl.col("total")).round(0).cast(pl.Int64)
            )
            .head(3)
            .str.join(", ")
            .alias(f"{column}_top"),
        )
        numeric = numeric.join(top, on="segment_id", how="left")
    return numeric.sort("segment_id")


def base_profile(profile_with_segment: pl.DataFrame) -> dict:
    """The whole base summarised like one segment (the yardstick for 'high' and 'low'); every value
    null for a base without customers (there is no segment to compare then)."""
    base = segment_profiles(profile_with_segment.with_columns(pl.lit(-1, dtype=pl.Int64).alias("segment_id")))
    return base.row(0, named=True) if base.height else dict.fromkeys(base.columns)


def number(p: dict, key: str, default: float | None = None) -> float | None:
    value = p.get(key)
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return default
    return float(value)
