"""Order-based features: the order facts DuckDB summarises (`OrderFacts`), the counted orders, and per
customer recency, frequency, value, channels, discounts, occasions, returns and payment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import polars as pl

from segmentation_pipeline.features.inputs import ORDER_CHANNELS, empty_source, ratio


def _collect_in_parts(query: Callable[[pl.Expr], pl.LazyFrame], key: str, parts: int = 2) -> pl.DataFrame:
    """Collect `query(mask)` for disjoint hash parts of `key` and stack the results.

    Valid when the query groups by `key` (every group falls in one part). Peak memory of a
    group-by with millions of groups drops markedly with two parts, for a little more time.
    """
    return pl.concat([query(pl.col(key).hash() % parts == i).collect() for i in range(parts)])


def product_lookup(products: pl.LazyFrame | pl.DataFrame | None) -> pl.DataFrame:
    """product_id -> unit_cost and integer codes of category and brand (dense rank = alphabetical).

    Grouping 10M lines by (customer_id, integer code) is much cheaper than by two strings; the
    names are joined back per customer at the end (see _code_names). The DuckDB queries of
    staging.reads.read_order_facts join this frame, so codes and names agree.
    """
    products = empty_source("products") if products is None else products.lazy()
    return products.select(
        "product_id",
        "unit_cost",
        category_code=pl.col("category").rank("dense").cast(pl.UInt32),
        brand_code=pl.col("brand").rank("dense").cast(pl.UInt32),
    ).collect()


def _code_names(products: pl.LazyFrame | pl.DataFrame | None, key: str) -> pl.LazyFrame:
    products = empty_source("products") if products is None else products.lazy()
    return (
        products.select(pl.col(key).alias(f"top_{key}"), top_code=pl.col(key).rank("dense").cast(pl.UInt32))
        .drop_nulls()
        .unique("top_code")
    )


def _order_summary(aggregates: pl.LazyFrame) -> pl.LazyFrame:
    """The order aggregates with the derived columns every user of the summary needs."""
    return aggregates.with_columns(
        order_date=pl.col("ordered_at").dt.date(),
        # Statuses are completed, returned or cancelled (contract).
        completed_lines=pl.col("n_lines") - pl.col("returned_lines") - pl.col("cancelled_lines"),
        gross=pl.col("revenue") + pl.col("discount"),
        margin=pl.when(pl.col("cost").is_not_nan()).then(pl.col("revenue") - pl.col("cost")),
    )


def _top_names(
    top_codes: pl.LazyFrame, products: pl.LazyFrame | pl.DataFrame | None, key: str
) -> pl.LazyFrame:
    return top_codes.join(_code_names(products, key), on="top_code", how="left").drop("top_code")


@dataclass(frozen=True)
class OrderFacts:
    """What the features need from the order lines.

    summary: one row per order up to as_of, counted or not (see sql/features/order_aggregates.sql
    and _order_summary); the counted ones are `counted_orders_from_summary`.
    top_category, top_brand: per customer with completed revenue, the top name and its revenue.
    """

    summary: pl.DataFrame
    top_category: pl.DataFrame
    top_brand: pl.DataFrame


def order_facts(
    aggregates: pl.DataFrame,
    top_category_codes: pl.DataFrame,
    top_brand_codes: pl.DataFrame,
    products: pl.LazyFrame | pl.DataFrame | None,
) -> OrderFacts:
    """OrderFacts from the per-order aggregates and the per-customer top codes.

    DuckDB computes the inputs (`staging.reads.read_order_facts`) so the 10M lines never cross
    into Polars.
    """
    summary, top_category, top_brand = pl.collect_all(
        [
            _order_summary(aggregates.lazy()),
            _top_names(top_category_codes.lazy(), products, "category"),
            _top_names(top_brand_codes.lazy(), products, "brand"),
        ]
    )
    return OrderFacts(summary=summary, top_category=top_category, top_brand=top_brand)


def _channel_name(code: pl.Expr) -> pl.Expr:
    return pl.lit(pl.Series(ORDER_CHANNELS)).gather(code)


def counted_orders_from_summary(summary: pl.LazyFrame | pl.DataFrame) -> pl.LazyFrame:
    """One row per counted order up to as_of (also the input of the CLV stage), from the order
    summary (`OrderFacts.summary`).

    Columns: customer_id, order_id, ordered_at, order_date, channel, revenue, margin (null when a
    completed line's product has no known unit cost), gross, discount (completed lines),
    is_occasion (any line with an occasion other than none; null when no line records one),
    n_lines (all lines).
    """
    return (
        summary.lazy()
        .filter(pl.col("completed_lines") > 0)
        .select(
            "customer_id",
            "order_id",
            "ordered_at",
            "order_date",
            _channel_name(pl.col("channel_code")).alias("channel"),
            "revenue",
            "margin",
            "gross",
            "discount",
            "is_occasion",
            "n_lines",
        )
    )


def _order_features(summary: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    counted = pl.col("completed_lines") > 0
    late = counted & (pl.col("days_late") > 0)
    # Null outside counted (or late) orders: null-skipping aggregations then see only those, and
    # are much cheaper than `.filter()` inside the group-by.
    summary = summary.with_columns(
        counted_date=pl.when(counted).then("order_date"),
        counted_margin=pl.when(counted).then("margin"),
        late_days=pl.when(late).then("days_late"),
    )
    per_customer = summary.group_by("customer_id").agg(
        frequency=counted.sum().cast(pl.Int32),
        purchase_days=pl.col("counted_date").drop_nulls().n_unique().cast(pl.Int32),
        monetary=pl.col("revenue").sum(),
        margin=pl.col("counted_margin").sum(),
        costed_orders=pl.col("counted_margin").count(),
        first_order_date=pl.col("counted_date").min(),
        last_order_date=pl.col("counted_date").max(),
        **{
            f"{c}_orders": (counted & (pl.col("channel_code") == i)).sum()
            for i, c in enumerate(ORDER_CHANNELS)
        },
        gross=pl.col("gross").sum(),
        gross_discount_known=pl.col("gross_discount_known").sum(),
        discount=pl.col("discount").sum(),
        occasion_orders=(counted & pl.col("is_occasion")).sum(),
        occasion_known_orders=(counted & pl.col("is_occasion").is_not_null()).sum(),
        late_orders=late.sum(),
        # Orders whose payment is on record (payment_days_late given on a line): without any, the
        # customer's payment behaviour is unknown, not punctual.
        payment_known_orders=(counted & pl.col("days_late").is_not_null()).sum(),
        late_days=pl.col("late_days").sum(),
        completed_lines=pl.col("completed_lines").sum(),
        returned_lines=pl.col("returned_lines").sum(),
        cancelled_lines=pl.col("cancelled_lines").sum(),
        n_lines=pl.col("n_lines").sum(),
    )
    counts = {c: pl.col(f"{c}_orders") for c in ORDER_CHANNELS}
    preferred = (
        pl.when(pl.col("frequency") == 0)
        .then(None)
        .when((counts["online"] >= counts["store"]) & (counts["online"] >= counts["phone"]))
        .then(pl.lit("online"))
        .when(counts["store"] >= counts["phone"])
        .then(pl.lit("store"))
        .otherwise(pl.lit("phone"))
    )
    return per_customer.select(
        "customer_id",
        recency_days=(pl.lit(as_of) - pl.col("last_order_date")).dt.total_days().cast(pl.Int32),
        frequency="frequency",
        purchase_days="purchase_days",
        monetary="monetary",
        margin=pl.when(pl.col("costed_orders") > 0).then("margin"),
        avg_order_value=ratio("monetary", "frequency"),
        first_order_date="first_order_date",
        last_order_date="last_order_date",
        mean_days_between_orders=ratio(
            (pl.col("last_order_date") - pl.col("first_order_date")).dt.total_days(),
            pl.col("purchase_days") - 1,
        ),
        **{f"share_{c}": ratio(f"{c}_orders", "frequency") for c in ORDER_CHANNELS},
        preferred_channel=preferred,
        discount_share=ratio("discount", "gross_discount_known"),
        occasion_share=ratio("occasion_orders", "occasion_known_orders"),
        return_rate=ratio("returned_lines", pl.col("completed_lines") + pl.col("returned_lines")),
        cancel_rate=ratio("cancelled_lines", "n_lines"),
        late_payment_share=ratio("late_orders", "payment_known_orders"),
        mean_days_late=pl.when(pl.col("payment_known_orders") > 0).then(
            ratio("late_days", "late_orders").fill_null(0.0)
        ),
    )


def customer_order_features(summary: pl.DataFrame | pl.LazyFrame, as_of: date) -> pl.DataFrame:
    """The order-based features (recency, frequency, value, channels, returns...) of each customer
    with an order up to as_of, from the order summary (`OrderFacts.summary`)."""
    summary = summary.lazy()
    return _collect_in_parts(lambda part: _order_features(summary.filter(part), as_of), "customer_id")
