"""The feature build: staging → features.customer_orders and features.customer_features, full or
incremental (refresh.py says which), in one transaction. No Dagster here: defs/features.py is its asset."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

import duckdb
import polars as pl

from segmentation_pipeline.contracts import tables as contract
from segmentation_pipeline.features import refresh
from segmentation_pipeline.features.customer_features import customer_features_from_orders
from segmentation_pipeline.features.order_features import counted_orders_from_summary, customer_order_features
from segmentation_pipeline.staging.reads import read_feature_sources, read_order_facts
from segmentation_pipeline.warehouse.tables import insert_frame, transaction, write_table


class NoOrdersError(ValueError):
    """staging.orders holds no order as of the analysis date: orders are the one required source."""


# Table names, for the steps and tests that address the tables (their shape: contracts/tables/).
CUSTOMER_ORDERS = contract.CUSTOMER_ORDERS.table
CUSTOMER_FEATURES = contract.CUSTOMER_FEATURES.table


Stage = Callable[[str], AbstractContextManager]


def no_stage(name: str) -> AbstractContextManager:
    return contextlib.nullcontext()


@dataclass
class FeatureTables:
    """What a build did: its mode and why, the customers it recomputed, the sources it lacked."""

    mode: str
    reason: str
    customers_recomputed: int
    counted_orders_recomputed: int
    absent: list[str]


def compute_feature_frames(
    conn: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    cost_per_effort_point: float,
    stage: Stage,
    only: str | None,
    write_orders: Callable[[pl.DataFrame], None],
) -> tuple[int, pl.DataFrame, list[str]]:
    """Counted orders (written; their count returned) and customer features from staging, of the
    customers in table `only` (None: everyone).

    The counted orders go to `write_orders` before the customer features are computed: DuckDB's
    write buffers and Polars' peak then come one after the other, not at once (a lower peak RSS).
    """
    with stage("read"):
        sources = read_feature_sources(conn, as_of, only)
    with stage("orders"):
        facts = read_order_facts(conn, as_of, sources["products"], only)
    if facts is None:
        raise NoOrdersError(
            f"no orders in staging.orders: orders are required (landing folder raw/orders/, as of {as_of})"
        )
    absent = [name for name, frame in sources.items() if frame is None]
    with stage("counted_orders"):
        orders = counted_orders_from_summary(facts.summary).collect()
    with stage("write_orders"):
        write_orders(orders)
    counted = orders.height
    del orders  # 5M rows at 1M customers: not kept through the features' peak
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
            sorted_by_id=False,  # a table has no row order: sorting would be time for nothing
        )
    return counted, features, absent


def build_feature_tables(
    conn: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    cost_per_effort_point: float,
    stage: Stage = no_stage,
    full_refresh: bool = False,
    duckdb_memory_limit: str | None = None,
) -> FeatureTables:
    """Read staging, compute both tables and write them: the whole asset minus Dagster.

    Incremental when it can be (features/refresh.py says when and why): only the customers whose
    inputs changed since the last build are recomputed, the others' date-relative columns move
    to the new analysis date. Otherwise, or with `full_refresh`, every customer is recomputed.
    Either way both tables and the build state change in one transaction.

    `stage(name)` wraps each step (plan, read, orders, counted_orders, write_orders,
    customer_features, write_features): benchmarks/bench_features.py --warehouse times them.

    Order lines, the one big input, never cross into Polars: DuckDB aggregates them by order
    while it scans them (read_order_facts says why); everything per customer is Polars. Each
    frame is dropped as soon as the next step no longer needs it. `duckdb_memory_limit` lowers
    DuckDB's cache limit from here on for the connection's database (the asset's connection ends
    with the step): Polars holds the big frames beside it.
    """
    if duckdb_memory_limit:
        conn.execute("SET memory_limit = ?", [duckdb_memory_limit])
    with stage("plan"):
        state, plan = plan_feature_build(conn, as_of, cost_per_effort_point, full_refresh)
    return build_planned(conn, as_of, cost_per_effort_point, stage, state, plan)


def plan_feature_build(
    conn: duckdb.DuckDBPyConnection, as_of: dt.date, cost_per_effort_point: float, full_refresh: bool
) -> tuple[refresh.BuildState, refresh.RefreshPlan]:
    """This build's state and whether it is full or incremental (an incremental plan leaves the
    customers to recompute in the temporary table refresh.DELTA_TABLE)."""
    state = refresh.current_state(conn, as_of, cost_per_effort_point)
    previous = refresh.previous_state(conn, [CUSTOMER_ORDERS, CUSTOMER_FEATURES])
    plan = refresh.plan_refresh(
        previous,
        state,
        replaced_since=previous is not None and refresh.replaced_since(conn, previous),
        force_full=full_refresh,
    )
    if plan.mode == refresh.INCREMENTAL:
        changed = refresh.mark_changed_customers(conn, plan.previous, as_of)
        customers = conn.execute(f"SELECT count(*) FROM {CUSTOMER_FEATURES}").fetchall()[0][0]
        if changed > refresh.MAX_INCREMENTAL_SHARE * max(customers, 1):
            plan = refresh.RefreshPlan(
                refresh.FULL, f"{changed:,} of {customers:,} customers changed", previous
            )
    return state, plan


def build_planned(
    conn: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    cost_per_effort_point: float,
    stage: Stage,
    state: refresh.BuildState,
    plan: refresh.RefreshPlan,
) -> FeatureTables:
    """The build of `plan` (build_feature_tables after its plan)."""
    # One transaction for both tables and the state: readers never see one without the other.
    with transaction(conn):
        if plan.mode == refresh.FULL:
            counted, features, absent = compute_feature_frames(
                conn, as_of, cost_per_effort_point, stage, None,
                lambda frame: write_table(conn, contract.CUSTOMER_ORDERS, frame),
            )  # fmt: skip
            with stage("write_features"):
                write_table(conn, contract.CUSTOMER_FEATURES, features)
        else:

            def replace_orders(frame: pl.DataFrame) -> None:
                refresh.delete_changed(conn, CUSTOMER_ORDERS)
                insert_frame(conn, CUSTOMER_ORDERS, frame)

            counted, features, absent = compute_feature_frames(
                conn, as_of, cost_per_effort_point, stage, refresh.DELTA_TABLE, replace_orders
            )
            with stage("write_features"):
                refresh.delete_changed(conn, CUSTOMER_FEATURES)
                refresh.shift_to(conn, CUSTOMER_FEATURES, plan.previous.as_of_date, as_of)
                insert_frame(conn, CUSTOMER_FEATURES, features)
        refresh.record_build(conn, state, plan, features.height)
    return FeatureTables(
        mode=plan.mode,
        reason=plan.reason,
        customers_recomputed=features.height,
        counted_orders_recomputed=counted,
        absent=absent,
    )
