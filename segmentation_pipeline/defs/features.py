"""Features layer: counted orders and one row of behaviour, value and profile per customer."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from segmentation_pipeline.contracts import SOURCES
from segmentation_pipeline.contracts import tables as contract
from segmentation_pipeline.defs.metadata import (
    contract_check_result,
    contract_check_spec,
    table_spec,
    warehouse_table_metadata,
)
from segmentation_pipeline.defs.resources import PipelineSettings
from segmentation_pipeline.features.build import CUSTOMER_FEATURES, NoOrdersError, build_feature_tables


@dg.multi_asset(
    specs=[
        table_spec(
            contract.CUSTOMER_ORDERS,
            description="Counted orders (at least one completed line) up to the analysis date, with revenue and "
            "margin; feeds the CLV models.",
            deps=[["staging", "orders"], ["staging", "products"]],
            kinds=("duckdb", "polars"),
        ),
        table_spec(
            contract.CUSTOMER_FEATURES,
            description="One row per known customer (prospects included) as of the analysis date: recency, "
            "frequency, value, channels, brands, discounts, occasions, returns, payment, service, social reach, "
            "latest survey answers and demographics. No personal data.",
            deps=[["staging", name] for name in SOURCES],
            kinds=("duckdb", "polars"),
        ),
    ],
    check_specs=[contract_check_spec(c) for c in (contract.CUSTOMER_ORDERS, contract.CUSTOMER_FEATURES)],
)
def customer_feature_tables(
    context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: DuckDBResource
):
    """Both tables from one read of staging (orders are the biggest table: read them once)."""
    as_of = settings.analysis_date()
    with warehouse.get_connection() as conn:
        try:
            built = build_feature_tables(
                conn,
                as_of,
                settings.cost_per_effort_point,
                full_refresh=settings.full_refresh,
                duckdb_memory_limit=settings.features_duckdb_memory_limit,
            )
        except NoOrdersError as error:
            raise dg.Failure(str(error)) from None
        orders_metadata = warehouse_table_metadata(conn, contract.CUSTOMER_ORDERS)
        features_metadata = warehouse_table_metadata(conn, contract.CUSTOMER_FEATURES)
        checks = [
            contract_check_result(conn, c) for c in (contract.CUSTOMER_ORDERS, contract.CUSTOMER_FEATURES)
        ]
        prospects_sql = f"SELECT count(*) FROM {CUSTOMER_FEATURES} WHERE frequency = 0"
        prospects = conn.execute(prospects_sql).fetchall()[0][0]
    if built.absent:
        context.log.warning(
            f"optional sources absent, their feature columns stay empty: {', '.join(built.absent)}"
        )
    context.log.info(
        f"{built.mode} build as of {as_of} ({built.reason}): {built.customers_recomputed:,} customers and "
        f"{built.counted_orders_recomputed:,} counted orders recomputed; "
        f"{features_metadata['dagster/row_count'].value:,} customers in all"
    )
    build = {
        "build_mode": dg.MetadataValue.text(built.mode),
        "build_reason": dg.MetadataValue.text(built.reason),
        "customers_recomputed": dg.MetadataValue.int(built.customers_recomputed),
    }
    yield dg.MaterializeResult(
        asset_key=["features", "customer_orders"],
        metadata={**orders_metadata, **build, "orders_recomputed": built.counted_orders_recomputed},
    )
    yield dg.MaterializeResult(
        asset_key=["features", "customer_features"],
        metadata={
            **features_metadata,
            **build,
            "as_of_date": dg.MetadataValue.text(as_of.isoformat()),
            "absent_sources": dg.MetadataValue.json(built.absent),
            "prospects": dg.MetadataValue.int(prospects),
        },
    )
    yield from checks
