"""What the features read of each source: columns, event times, vocabularies; the typed empty frame of
an absent source, the as-of filter and the null-safe ratio every feature module uses."""

from __future__ import annotations

from datetime import date

import polars as pl

from segmentation_pipeline.contracts import SOURCES

ORDER_CHANNELS = ("online", "store", "phone")


SURVEY_ANSWERS = (
    "discovery_channel",
    "main_motivation",
    "main_barrier",
    "importance_price",
    "importance_brand",
    "importance_reviews",
    "importance_features",
    "importance_service",
    "brand_perception",
    "satisfaction",
    "nps",
)


DEMOGRAPHICS = (
    "gender",
    "city",
    "region",
    "country",
    "income_band",
    "profession",
    "web_savviness",
    "acquisition_channel",
    "signup_date",
)


# The timestamp that dates each event source's rows: rows after the analysis date are ignored.
EVENT_TIME = {
    "orders": "ordered_at",
    "surveys": "submitted_at",
    "social": "observed_at",
    "service": "opened_at",
}


# The columns the features read from each source besides orders and products (a reader may
# pass frames with just these: see staging.reads.read_feature_sources).
SOURCE_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id", "birth_year", *DEMOGRAPHICS),
    "surveys": ("response_id", "customer_id", EVENT_TIME["surveys"], *SURVEY_ANSWERS),
    "social": (
        "customer_id",
        "platform",
        "followers",
        "engagement_rate",
        "brand_mentions_90d",
        EVENT_TIME["social"],
    ),
    "service": ("customer_id", EVENT_TIME["service"], "effort_score", "resolved"),
}


def empty_source(source: str) -> pl.LazyFrame:
    """A typed frame with no rows: absent sources run through the same code path."""
    return pl.LazyFrame(schema=SOURCES[source].columns)


def until(frame: pl.LazyFrame, column: str, as_of: date) -> pl.LazyFrame:
    return frame.filter(pl.col(column).dt.date() <= as_of)


def ratio(numerator: str | pl.Expr, denominator: str | pl.Expr) -> pl.Expr:
    """numerator / denominator, null (not NaN or inf) when the denominator is 0 or null."""
    num = pl.col(numerator) if isinstance(numerator, str) else numerator
    den = pl.col(denominator) if isinstance(denominator, str) else denominator
    return pl.when(den > 0).then(num / den)
