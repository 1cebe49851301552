"""Features layer: counted orders and one row of behaviour, value and profile per customer."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from segmentation_pipeline.assets.metadata import table_metadata
from segmentation_pipeline.contracts import SOURCES
from segmentation_pipeline.features.customer_features import (
    FEATURE_DESCRIPTIONS,
    build_customer_features,
    counted_orders,
)
from segmentation_pipeline.resources import PipelineSettings
from segmentation_pipeline.staging_reads import read_staging
from segmentation_pipeline.warehouse import replace_table

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
        sources = {name: read_staging(conn, name, as_of) for name in SOURCES}
        if sources["orders"] is None:
            raise dg.Failure(
                f"no orders in staging.orders: orders are required (landing folder raw/orders/, as of {as_of})"
            )
        absent = [name for name, frame in sources.items() if frame is None]
        if absent:
            context.log.warning(
                f"optional sources absent, their feature columns stay empty: {', '.join(absent)}"
            )
        lazy = {name: None if frame is None else frame.lazy() for name, frame in sources.items()}
        orders = counted_orders(lazy["orders"], lazy["products"], as_of).collect()
        features = build_customer_features(
            **lazy, as_of=as_of, cost_per_effort_point=settings.cost_per_effort_point
        )
        replace_table(
            conn, CUSTOMER_ORDERS, orders, "Counted orders up to the analysis date.", ORDER_DESCRIPTIONS
        )
        replace_table(
            conn,
            CUSTOMER_FEATURES,
            features,
            "Customer features as of the analysis date.",
            FEATURE_DESCRIPTIONS,
        )
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
