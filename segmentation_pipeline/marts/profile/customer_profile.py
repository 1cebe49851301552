"""Build marts.customer_profile in the warehouse: the segmentation input, segment, persona and economics."""

from __future__ import annotations

import duckdb

from segmentation_pipeline.contracts.tables import CUSTOMER_PROFILE
from segmentation_pipeline.marts.economics.segment_economics import customer_economics
from segmentation_pipeline.warehouse.buckets import BUCKET_TABLE, Bucket, mark_bucket_customers, staged
from segmentation_pipeline.warehouse.tables import comment_table, query_frame, read_sql, transaction

# What the customer economics read of each customer (the rest of the profile stays in DuckDB).
ECONOMICS_INPUTS = ("customer_id", "tenure_days", "service_contacts", "mean_effort_score", "clv_12m")


def build_customer_profile(
    conn: duckdb.DuckDBPyConnection,
    basis: str,
    assumed_margin_rate: float | None,
    cost_per_effort_point: float,
    bucket: Bucket | None = None,
) -> None:
    """Replace marts.customer_profile in one transaction (typed from its contract, then filled).

    `basis`: the run's value basis; `assumed_margin_rate`: SEGMENTATION_ASSUMED_MARGIN_RATE (used
    only on the revenue basis). The profile's rows never cross into Polars: only the five columns
    the customer economics need do. With a `bucket`, only that bucket's customers are built, and
    they are added to marts.customer_profile__next (warehouse/buckets.py: a later commit publishes it).
    """
    rate = assumed_margin_rate if basis == "revenue" else None
    inputs_sql = read_sql("models/segmentation_input")
    if bucket is not None:
        mark_bucket_customers(conn, bucket, "features.customer_features")
        inputs_sql = (
            f"SELECT * FROM ({inputs_sql}) WHERE customer_id IN (SELECT customer_id FROM {BUCKET_TABLE})"
        )
    # Our own SQL file as a temporary view (no value in it): the profile and the economics read it.
    conn.execute(f"CREATE OR REPLACE TEMP VIEW _segmentation_input AS {inputs_sql}")
    target = CUSTOMER_PROFILE if bucket is None else staged(CUSTOMER_PROFILE)
    try:
        inputs = query_frame(conn, f"SELECT {', '.join(ECONOMICS_INPUTS)} FROM _segmentation_input")
        conn.register("_customer_economics", customer_economics(inputs, cost_per_effort_point))
        try:
            with transaction(conn):
                if bucket is None:
                    conn.execute(CUSTOMER_PROFILE.ddl(replace=True))
                conn.execute(
                    f"INSERT INTO {target.table} BY NAME {read_sql('marts/customer_profile')}",
                    {"basis": basis, "rate": rate},
                )
                if bucket is None:
                    comment_table(conn, CUSTOMER_PROFILE)
        finally:
            conn.unregister("_customer_economics")
    finally:
        conn.execute("DROP VIEW IF EXISTS _segmentation_input")
