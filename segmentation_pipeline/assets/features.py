"""Features layer: counted orders and one row of behaviour, value and profile per customer."""

import contextlib
import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

import dagster as dg
import duckdb
import polars as pl
from dagster_duckdb import DuckDBResource

from segmentation_pipeline.assets.metadata import table_metadata
from segmentation_pipeline.contracts import SOURCES
from segmentation_pipeline.features.customer_features import (
    FEATURE_DESCRIPTIONS,
    counted_orders_from_summary,
    customer_features_from_orders,
    customer_order_features,
)
from segmentation_pipeline.resources import PipelineSettings
from segmentation_pipeline.staging_reads import read_feature_sources, read_order_facts
from segmentation_pipeline.warehouse import transaction, write_table

CUSTOMER_ORDERS = "features.customer_orders"
CUSTOMER_FEATURES = "features.customer_features"

ORDER_DESCRIPTIONS = {
    "customer_id": "Customer who placed the order.",
    "order_id": "Order identifier.",
    "ordered_at": "When the order was placed (UTC).",
    "order_date": "Day of the order (UTC).",
    "channel": "Channel of the order: online, store or phone.",
    "revenue": "Revenue of the completed lines: quantity x unit_price - discount.",
    "margin": "Revenue minus quantity x unit_cost of the completed lines (NULL when a cost is unknown).",
    "gross": "quantity x unit_price of the completed lines, before discount.",
    "discount": "Discount on the completed lines.",
    "is_occasion": "At least one line was bought for a special occasion.",
    "n_lines": "Lines in the order (all statuses).",
}


Stage = Callable[[str], AbstractContextManager]


def _no_stage(name: str) -> AbstractContextManager:
    return contextlib.nullcontext()


@dataclass
class FeatureTables:
    orders: pl.DataFrame
    features: pl.DataFrame
    absent: list[str]


def build_feature_tables(
    conn: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    cost_per_effort_point: float,
    stage: Stage = _no_stage,
) -> FeatureTables:
    """Read staging, compute both tables and write them: the whole asset minus Dagster.

    `stage(name)` wraps each step (read, orders, counted_orders, write_orders, customer_features,
    write_features): benchmarks/bench_features.py --warehouse times them.

    Order lines, the one big input, never cross into Polars: DuckDB aggregates them by order
    while it scans them (read_order_facts says why); everything per customer is Polars. Each
    frame is dropped as soon as the next step no longer needs it.
    """
    with stage("read"):
        sources = read_feature_sources(conn, as_of)
    with stage("orders"):
        facts = read_order_facts(conn, as_of, sources["products"])
    if facts is None:
        raise dg.Failure(
            f"no orders in staging.orders: orders are required (landing folder raw/orders/, as of {as_of})"
        )
    absent = [name for name, frame in sources.items() if frame is None]
    with stage("counted_orders"):
        orders = counted_orders_from_summary(facts.summary).collect()
    # One transaction for both tables: readers never see one table updated without the other.
    with transaction(conn):
        # Counted orders are written before the customer features are computed: DuckDB's write
        # buffers and Polars' peak then come one after the other (-0.4 GB peak RSS at 1M customers).
        with stage("write_orders"):
            write_table(
                conn,
                CUSTOMER_ORDERS,
                orders,
                "Counted orders up to the analysis date.",
                ORDER_DESCRIPTIONS,
            )
        with stage("customer_features"):
            order_features = customer_order_features(facts.summary, as_of)
            top_category, top_brand = facts.top_category, facts.top_brand
            del facts  # the order summary (5.5M rows at 1M customers) before the joins
            features = customer_features_from_orders(
                order_features,
                top_category,
                top_brand,
                customers=sources["customers"],
                surveys=sources["surveys"],
                social=sources["social"],
                service=sources["service"],
                as_of=as_of,
                cost_per_effort_point=cost_per_effort_point,
            )
            del sources, order_features, top_category, top_brand
        with stage("write_features"):
            write_table(
                conn,
                CUSTOMER_FEATURES,
                features,
                "Customer features as of the analysis date.",
                FEATURE_DESCRIPTIONS,
            )
    return FeatureTables(orders=orders, features=features, absent=absent)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["features", "customer_orders"],
            description="Counted orders (at least one completed line) up to the analysis date, with revenue and "
            "margin; feeds the CLV models.",
            deps=[["staging", "orders"], ["staging", "products"]],
            kinds={"duckdb", "polars"},
            group_name="features",
        ),
        dg.AssetSpec(
            ["features", "customer_features"],
            description="One row per known customer (prospects included) as of the analysis date: recency, "
            "frequency, value, channels, brands, discounts, occasions, returns, payment, service, social reach, "
            "latest survey answers and demographics. No personal data.",
            deps=[["staging", name] for name in SOURCES],
            kinds={"duckdb", "polars"},
            group_name="features",
        ),
    ]
)
def customer_feature_tables(
    context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: DuckDBResource
):
    """Both tables from one read of staging (orders are the biggest table: read them once)."""
    as_of = settings.analysis_date()
    with warehouse.get_connection() as conn:
        tables = build_feature_tables(conn, as_of, settings.cost_per_effort_point)
    orders, features, absent = tables.orders, tables.features, tables.absent
    if absent:
        context.log.warning(f"optional sources absent, their feature columns stay empty: {', '.join(absent)}")
    context.log.info(f"{features.height:,} customers, {orders.height:,} counted orders as of {as_of}")
    yield dg.MaterializeResult(
        asset_key=["features", "customer_orders"],
        metadata=table_metadata(CUSTOMER_ORDERS, orders, ORDER_DESCRIPTIONS),
    )
    yield dg.MaterializeResult(
        asset_key=["features", "customer_features"],
        metadata={
            **table_metadata(CUSTOMER_FEATURES, features, FEATURE_DESCRIPTIONS),
            "as_of_date": dg.MetadataValue.text(as_of.isoformat()),
            "absent_sources": dg.MetadataValue.json(absent),
            "prospects": dg.MetadataValue.int(features.filter(features["frequency"] == 0).height),
        },
    )
