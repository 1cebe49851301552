"""Features layer: counted orders and one row of behaviour, value and profile per customer."""

import dataclasses
import datetime as dt
import json

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
from segmentation_pipeline.defs.partitioned import customer_partitioned_asset, read_run_plan
from segmentation_pipeline.defs.resources import PipelineSettings
from segmentation_pipeline.features import refresh
from segmentation_pipeline.features.build import (
    CUSTOMER_FEATURES,
    FeatureTables,
    NoOrdersError,
    build_feature_tables,
    build_planned,
    compute_feature_frames,
    no_stage,
    plan_feature_build,
)
from segmentation_pipeline.staging.tables import ensure_source_tables, staging_table
from segmentation_pipeline.warehouse.buckets import (
    BUCKET_TABLE,
    Bucket,
    mark_bucket_customers,
    staged,
    start_staged,
    swap_staged,
)
from segmentation_pipeline.warehouse.tables import ensure_table, insert_frame, table_exists, transaction

FEATURE_SPECS = [
    table_spec(
        contract.CUSTOMER_ORDERS,
        description="Counted orders (at least one completed line) up to the analysis date, with revenue and "
        "margin; feeds the CLV models.",
        kinds=("duckdb", "polars"),
    ),
    table_spec(
        contract.CUSTOMER_FEATURES,
        description="One row per known customer (prospects included) as of the analysis date: recency, "
        "frequency, value, channels, brands, discounts, occasions, returns, payment, service, social reach, "
        "latest survey answers and demographics. No personal data.",
        kinds=("duckdb", "polars"),
    ),
]
FEATURE_DEPS = [["staging", name] for name in SOURCES]
FEATURE_CHECKS = [contract_check_spec(c) for c in (contract.CUSTOMER_ORDERS, contract.CUSTOMER_FEATURES)]


@dg.multi_asset(
    specs=[
        FEATURE_SPECS[0].replace_attributes(deps=[["staging", "orders"], ["staging", "products"]]),
        FEATURE_SPECS[1].replace_attributes(deps=FEATURE_DEPS),
    ],
    check_specs=FEATURE_CHECKS,
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
        yield from _features_written(context, conn, built, as_of)


def _features_written(context, conn, built: FeatureTables, as_of: dt.date) -> list:
    """The feature assets' metadata and contract checks, on the tables as written."""
    orders_metadata = warehouse_table_metadata(conn, contract.CUSTOMER_ORDERS)
    features_metadata = warehouse_table_metadata(conn, contract.CUSTOMER_FEATURES)
    checks = [contract_check_result(conn, c) for c in (contract.CUSTOMER_ORDERS, contract.CUSTOMER_FEATURES)]
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
    return [
        dg.MaterializeResult(
            asset_key=["features", "customer_orders"],
            metadata={**orders_metadata, **build, "orders_recomputed": built.counted_orders_recomputed},
        ),
        dg.MaterializeResult(
            asset_key=["features", "customer_features"],
            metadata={
                **features_metadata,
                **build,
                "as_of_date": dg.MetadataValue.text(as_of.isoformat()),
                "absent_sources": dg.MetadataValue.json(built.absent),
                "prospects": dg.MetadataValue.int(prospects),
            },
        ),
        *checks,
    ]


# Every staging table with customer ids: the customers a full build may hold, whatever their sources.
_EVERY_CUSTOMER = " UNION ".join(
    f"SELECT customer_id FROM staging.{source}"
    for source in ("customers", "orders", "surveys", "social", "service")
)
OPTIONAL_SOURCES = ("products", "customers", "surveys", "social", "service")


def partitioned_customer_feature_tables(partitions: int) -> dg.AssetsDefinition:
    """`customer_feature_tables` as a plan step, one step per customer-hash bucket, and a commit
    (DuckLake mode; defs/partitioned.py).

    The plan step decides full or incremental (features/refresh.py). An incremental day
    recomputes only the customers whose inputs changed (a day's worth: ~1.5% of them at 1M, 1.5 s),
    so the plan step builds it whole, in one transaction, as the single step does, and the bucket
    steps have nothing to do. A full build (first run, new code, a re-landing…) is split: each
    bucket computes its customers' counted orders and features into the `__next` tables, and the
    commit swaps both tables and records the build state in one transaction.
    """

    def prepare(context: dg.OpExecutionContext) -> None:
        settings = context.resources.settings
        as_of = settings.analysis_date()
        with context.resources.warehouse.get_connection() as conn:
            conn.execute("SET memory_limit = ?", [settings.features_duckdb_memory_limit])
            ensure_table(conn, contract.BUILD_PLAN)
            state, plan = plan_feature_build(
                conn, as_of, settings.cost_per_effort_point, settings.full_refresh
            )
            done = None
            if plan.mode == refresh.INCREMENTAL:
                done = build_planned(conn, as_of, settings.cost_per_effort_point, no_stage, state, plan)
            for source in SOURCES.values():  # the bucket steps read every staging table
                if not table_exists(conn, staging_table(source.name)):
                    ensure_source_tables(conn, source)
            record = {
                "mode": plan.mode,
                "reason": plan.reason,
                "state": {**dataclasses.asdict(state), "as_of_date": state.as_of_date.isoformat(),
                          "loaded_through": state.loaded_through.isoformat() if state.loaded_through else None},
                "built": dataclasses.asdict(done) if done else None,
            }  # fmt: skip
            with transaction(conn):
                if done is None:
                    start_staged(conn, contract.CUSTOMER_ORDERS)
                    start_staged(conn, contract.CUSTOMER_FEATURES)
                conn.execute(f"DELETE FROM {contract.BUILD_PLAN.table}")
                conn.execute(
                    f"INSERT INTO {contract.BUILD_PLAN.table} VALUES (?, ?, now()::TIMESTAMP)",
                    [as_of, json.dumps(record)],
                )
        context.log.info(
            f"{plan.mode} build as of {as_of} ({plan.reason})"
            + (": built whole" if done else f": {partitions} buckets")
        )

    def read_plan(conn, as_of: dt.date) -> dict:
        return read_run_plan(conn, contract.BUILD_PLAN.table, as_of, "feature build", "plan")

    def build_bucket(context: dg.OpExecutionContext, bucket: Bucket) -> None:
        settings = context.resources.settings
        as_of = settings.analysis_date()
        with context.resources.warehouse.get_connection() as conn:
            if read_plan(conn, as_of)["built"] is not None:
                return  # incremental: built by the plan step
            conn.execute("SET memory_limit = ?", [settings.features_duckdb_memory_limit])
            customers = mark_bucket_customers(conn, bucket, f"({_EVERY_CUSTOMER})")
            with transaction(conn):
                _, features, _ = compute_feature_frames(
                    conn, as_of, settings.cost_per_effort_point, no_stage, BUCKET_TABLE,
                    lambda frame: insert_frame(conn, staged(contract.CUSTOMER_ORDERS).table, frame),
                )  # fmt: skip
                insert_frame(conn, staged(contract.CUSTOMER_FEATURES).table, features)
        context.log.info(
            f"bucket {bucket.index} of {bucket.of}: {customers:,} customer ids read, {features.height:,} built"
        )

    def commit(context: dg.OpExecutionContext) -> list:
        as_of = context.resources.settings.analysis_date()
        with context.resources.warehouse.get_connection() as conn:
            record = read_plan(conn, as_of)
            if record["built"] is not None:
                built = FeatureTables(**record["built"])
            else:
                raw = record["state"]
                state = refresh.BuildState(
                    as_of_date=dt.date.fromisoformat(raw["as_of_date"]),
                    loaded_through=dt.datetime.fromisoformat(raw["loaded_through"])
                    if raw["loaded_through"]
                    else None,
                    cost_per_effort_point=raw["cost_per_effort_point"],
                    present_sources=tuple(raw["present_sources"]),
                    code_fingerprint=raw["code_fingerprint"],
                )
                plan = refresh.RefreshPlan(record["mode"], record["reason"], None)
                with transaction(conn):
                    customers = conn.execute(
                        f"SELECT count(*) FROM {staged(contract.CUSTOMER_FEATURES).table}"
                    ).fetchall()[0][0]
                    counted = conn.execute(
                        f"SELECT count(*) FROM {staged(contract.CUSTOMER_ORDERS).table}"
                    ).fetchall()[0][0]
                    swap_staged(conn, contract.CUSTOMER_ORDERS)
                    swap_staged(conn, contract.CUSTOMER_FEATURES)
                    refresh.record_build(conn, state, plan, customers)
                # The sources a full build lacks are those without a row (read_feature_sources' None).
                absent = [name for name in OPTIONAL_SOURCES if name not in state.present_sources]
                built = FeatureTables(plan.mode, plan.reason, customers, counted, absent)
            return _features_written(context, conn, built, as_of)

    return customer_partitioned_asset(
        "customer_feature_tables",
        FEATURE_SPECS,
        FEATURE_DEPS,
        FEATURE_CHECKS,
        prepare,
        build_bucket,
        commit,
        partitions,
    )
