"""Pandera (polars backend) models of the landing contract, one per source.

The models validate rows that ingestion has already parsed into typed columns (a value that
cannot be parsed at all is quarantined before Pandera sees it, with the rule `parse:<column>`).
Every optional column is present by then (filled with nulls when a file lacks it), so the models
declare all columns and `nullable` says which ones may be empty.

Two helper columns are added by ingestion and used by the cross-field rules:
`_landing_date` (the date in the file name) for "timestamps not after the landing date + 1 day".
"""

from __future__ import annotations

import datetime as dt

import pandera.polars as pa
import polars as pl

from segmentation_pipeline.contracts import enums
from segmentation_pipeline.contracts.tables.ops import LANDING_DATE

TIMESTAMP = pl.Datetime("us")


def _not_after_landing(column: str) -> pl.Expr:
    """A timestamp may not be later than the end of the day after its file's landing date."""
    limit = (pl.col(LANDING_DATE) + dt.timedelta(days=2)).cast(TIMESTAMP)
    return pl.col(column).is_null() | pl.col(LANDING_DATE).is_null() | (pl.col(column) < limit)


def _not_after_landing_check(column: str):
    """The dataframe check of `column` against the landing date (its name is the quarantine rule)."""

    @pa.dataframe_check(name=f"{column} not after landing date + 1 day")
    def check(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(_not_after_landing(column))

    return check


class _Contract(pa.DataFrameModel):
    class Config:
        strict = False  # helper columns (_source_file, _row_number, _landing_date) ride along
        coerce = False  # ingestion parses; Pandera checks the parsed types


class Customers(_Contract):
    customer_id: str = pa.Field(nullable=False, str_length={"min_value": 1})
    email: str = pa.Field(nullable=True, str_matches=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    full_name: str = pa.Field(nullable=True)
    birth_year: pl.Int32 = pa.Field(nullable=True, in_range={"min_value": 1900, "max_value": 2030})
    gender: str = pa.Field(nullable=True, isin=enums.GENDERS)
    city: str = pa.Field(nullable=True)
    region: str = pa.Field(nullable=True)
    country: str = pa.Field(nullable=True, str_matches=r"^[A-Z]{2}$")
    income_band: str = pa.Field(nullable=True, isin=enums.INCOME_BANDS)
    profession: str = pa.Field(nullable=True)
    web_savviness: str = pa.Field(nullable=True, isin=enums.WEB_SAVVINESS)
    acquisition_channel: str = pa.Field(nullable=True, isin=enums.ACQUISITION_CHANNELS)
    signup_date: pl.Date = pa.Field(nullable=True)
    updated_at: TIMESTAMP = pa.Field(nullable=False)

    updated_at_not_in_future = _not_after_landing_check("updated_at")


class Products(_Contract):
    product_id: str = pa.Field(nullable=False, str_length={"min_value": 1})
    name: str = pa.Field(nullable=True)
    category: str = pa.Field(nullable=False, str_length={"min_value": 1})
    brand: str = pa.Field(nullable=True)
    unit_cost: pl.Float64 = pa.Field(nullable=True, ge=0)  # often unknown in real exports: margin unknown
    list_price: pl.Float64 = pa.Field(nullable=True, ge=0)
    updated_at: TIMESTAMP = pa.Field(nullable=False)

    updated_at_not_in_future = _not_after_landing_check("updated_at")


class Orders(_Contract):
    order_id: str = pa.Field(nullable=False, str_length={"min_value": 1})
    line_number: pl.Int32 = pa.Field(nullable=False, ge=1)
    customer_id: str = pa.Field(nullable=False, str_length={"min_value": 1})
    ordered_at: TIMESTAMP = pa.Field(nullable=False)
    channel: str = pa.Field(nullable=False, isin=enums.ORDER_CHANNELS)
    product_id: str = pa.Field(nullable=False, str_length={"min_value": 1})
    quantity: pl.Int32 = pa.Field(nullable=False, ge=1)
    unit_price: pl.Float64 = pa.Field(nullable=False, ge=0)
    discount: pl.Float64 = pa.Field(nullable=True, ge=0)
    status: str = pa.Field(nullable=False, isin=enums.ORDER_STATUSES)
    occasion: str = pa.Field(nullable=True, isin=enums.OCCASIONS)
    payment_days_late: pl.Int32 = pa.Field(nullable=True, ge=0)

    @pa.dataframe_check(name="discount <= quantity x unit_price")
    def discount_within_line_total(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            pl.col("discount").is_null() | (pl.col("discount") <= pl.col("quantity") * pl.col("unit_price"))
        )

    ordered_at_not_in_future = _not_after_landing_check("ordered_at")


class Surveys(_Contract):
    response_id: str = pa.Field(nullable=False, str_length={"min_value": 1})
    customer_id: str = pa.Field(nullable=True)
    submitted_at: TIMESTAMP = pa.Field(nullable=False)
    discovery_channel: str = pa.Field(nullable=True, isin=enums.DISCOVERY_CHANNELS)
    main_motivation: str = pa.Field(nullable=True, isin=enums.MOTIVATIONS)
    main_barrier: str = pa.Field(nullable=True, isin=enums.BARRIERS)
    importance_price: pl.Int32 = pa.Field(nullable=True, in_range={"min_value": 1, "max_value": 5})
    importance_brand: pl.Int32 = pa.Field(nullable=True, in_range={"min_value": 1, "max_value": 5})
    importance_reviews: pl.Int32 = pa.Field(nullable=True, in_range={"min_value": 1, "max_value": 5})
    importance_features: pl.Int32 = pa.Field(nullable=True, in_range={"min_value": 1, "max_value": 5})
    importance_service: pl.Int32 = pa.Field(nullable=True, in_range={"min_value": 1, "max_value": 5})
    brand_perception: str = pa.Field(nullable=True, isin=enums.BRAND_PERCEPTIONS)
    satisfaction: pl.Int32 = pa.Field(nullable=True, in_range={"min_value": 1, "max_value": 10})
    nps: pl.Int32 = pa.Field(nullable=True, in_range={"min_value": 0, "max_value": 10})
    comment: str = pa.Field(nullable=True)

    submitted_at_not_in_future = _not_after_landing_check("submitted_at")


class Social(_Contract):
    customer_id: str = pa.Field(nullable=False, str_length={"min_value": 1})
    platform: str = pa.Field(nullable=False, isin=enums.SOCIAL_PLATFORMS)
    handle: str = pa.Field(nullable=True)
    followers: pl.Int64 = pa.Field(nullable=False, ge=0)
    following: pl.Int64 = pa.Field(nullable=True, ge=0)
    brands_followed: pl.Int32 = pa.Field(nullable=True, ge=0)
    brand_mentions_90d: pl.Int32 = pa.Field(nullable=True, ge=0)
    engagement_rate: pl.Float64 = pa.Field(nullable=True, in_range={"min_value": 0.0, "max_value": 1.0})
    observed_at: TIMESTAMP = pa.Field(nullable=False)

    observed_at_not_in_future = _not_after_landing_check("observed_at")


class Service(_Contract):
    ticket_id: str = pa.Field(nullable=False, str_length={"min_value": 1})
    customer_id: str = pa.Field(nullable=False, str_length={"min_value": 1})
    opened_at: TIMESTAMP = pa.Field(nullable=False)
    channel: str = pa.Field(nullable=True, isin=enums.SERVICE_CHANNELS)
    effort_score: pl.Int32 = pa.Field(nullable=False, in_range={"min_value": 1, "max_value": 10})
    resolution_minutes: pl.Float64 = pa.Field(nullable=True, ge=0)
    resolved: pl.Boolean = pa.Field(nullable=True)

    opened_at_not_in_future = _not_after_landing_check("opened_at")
