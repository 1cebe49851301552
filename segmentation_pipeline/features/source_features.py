"""Features of the optional sources: service effort and cost, social reach and influence tier, the latest survey answers."""

from __future__ import annotations

from datetime import date

import polars as pl

from segmentation_pipeline.features.inputs import EVENT_TIME, SURVEY_ANSWERS, ratio, until

# Reach tiers on a customer scale (most customers have a few hundred followers), not the
# influencer-industry scale: nano < 1,000 <= micro < 10,000 <= mid < 100,000 <= macro.
# "none" = no followers at all (or no observation in a present social source).
INFLUENCE_TIERS: tuple[tuple[str, int], ...] = (
    ("nano", 1),
    ("micro", 1_000),
    ("mid", 10_000),
    ("macro", 100_000),
)


def service_features(service: pl.LazyFrame, as_of: date, cost_per_effort_point: float) -> pl.LazyFrame:
    return (
        until(service, EVENT_TIME["service"], as_of)
        .group_by("customer_id")
        .agg(
            service_contacts=pl.len().cast(pl.Int32),
            mean_effort_score=pl.col("effort_score").mean(),
            total_effort=pl.col("effort_score").sum().cast(pl.Int64),
            # No recorded resolution is not a resolution.
            unresolved_tickets=(pl.col("resolved") != True).fill_null(True).sum().cast(pl.Int32),  # noqa: E712
        )
        .with_columns(cost_to_serve=pl.col("total_effort") * cost_per_effort_point)
    )


def influence_tier(followers: pl.Expr) -> pl.Expr:
    tier = pl.when(followers.is_null()).then(None)
    for name, floor in reversed(INFLUENCE_TIERS):
        tier = tier.when(followers >= floor).then(pl.lit(name))
    return tier.otherwise(pl.lit("none"))


def social_features(social: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    observed = until(social, EVENT_TIME["social"], as_of)
    # (customer_id, platform, observed_at) is a key, so this keeps one row per platform.
    latest = observed.filter(
        pl.col("observed_at") == pl.col("observed_at").max().over("customer_id", "platform")
    )
    rate_known = pl.col("engagement_rate").is_not_null()
    return (
        latest.group_by("customer_id")
        .agg(
            social_followers=pl.col("followers").sum(),
            social_platforms=pl.len().cast(pl.Int32),
            weighted_rate=(pl.col("engagement_rate") * pl.col("followers")).sum(),
            rate_weight=pl.col("followers").filter(rate_known).sum(),
            mean_rate=pl.col("engagement_rate").mean(),
            # A platform without the figure adds no mentions.
            brand_mentions_90d=pl.col("brand_mentions_90d").sum().cast(pl.Int64),
        )
        .select(
            "customer_id",
            "social_followers",
            "social_platforms",
            # Without followers to weigh by, every platform counts the same.
            engagement_rate=pl.coalesce(ratio("weighted_rate", "rate_weight"), "mean_rate"),
            brand_mentions_90d="brand_mentions_90d",
        )
    )


def survey_features(surveys: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """The latest response per customer, taken whole (answers are not mixed across responses)."""
    responses = until(surveys, EVENT_TIME["surveys"], as_of).filter(pl.col("customer_id").is_not_null())
    # A group-by keeps the row order within each group, so after this sort `last` is the latest
    # response; response_id breaks ties between responses submitted at the same instant.
    return (
        responses.sort("submitted_at", "response_id")
        .group_by("customer_id")
        .agg(*[pl.col(c).last() for c in SURVEY_ANSWERS], survey_count=pl.len().cast(pl.Int32))
    )
