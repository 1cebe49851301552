"""Build marts.customer_profile in the warehouse: the segmentation input, segment, persona and economics."""

from __future__ import annotations

import duckdb

from segmentation_pipeline.contracts.tables import CUSTOMER_PROFILE
from segmentation_pipeline.marts.economics.segment_economics import customer_economics
from segmentation_pipeline.warehouse.tables import comment_table, query_frame, read_sql, transaction

# What the customer economics read of each customer (the rest of the profile stays in DuckDB).
ECONOMICS_INPUTS = ("customer_id", "tenure_days", "service_contacts", "mean_effort_score", "clv_12m")


def build_customer_profile(
    conn: duckdb.DuckDBPyConnection,
    basis: str,
    assumed_margin_rate: float | None,
    cost_per_effort_point: float,
) -> None:
    """Replace marts.customer_profile in one transaction (typed from its contract, then filled).

    `basis`: the run's value basis; `assumed_margin_rate`: SEGMENTATION_ASSUMED_MARGIN_RATE (used
    only on the revenue basis). The profile's rows never cross into Polars: only the five columns
    the customer economics need do.
    """
    rate = assumed_margin_rate if basis == "revenue" else None
    # Our own SQL file as a temporary view (no value in it): the profile and the economics read it.
    conn.execute(
        f"CREATE OR REPLACE TEMP VIEW _segmentation_input AS {read_sql('models/segmentation_input')}"
    )
    try:
        inputs = query_frame(conn, f"SELECT {', '.join(ECONOMICS_INPUTS)} FROM _segmentation_input")
        conn.register("_customer_economics", customer_economics(inputs, cost_per_effort_point))
        try:
            with transaction(conn):
                conn.execute(CUSTOMER_PROFILE.ddl(replace=True))
                conn.execute(read_sql("marts/customer_profile"), {"basis": basis, "rate": rate})
                comment_table(conn, CUSTOMER_PROFILE)
        finally:
            conn.unregister("_customer_economics")
    finally:
        conn.execute("DROP VIEW IF EXISTS _segmentation_input")
