"""Reading validated staging tables into Polars, as of the analysis date, without personal data."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from segmentation_pipeline.contracts import SOURCES
from segmentation_pipeline.features.customer_features import (
    EVENT_TIME,
    ORDER_CHANNELS,
    SOURCE_COLUMNS,
    OrderFacts,
    order_facts,
    product_lookup,
)
from segmentation_pipeline.staging.load import staging_table
from segmentation_pipeline.warehouse.tables import query_frame, read_sql, table_exists


def has_rows(conn: duckdb.DuckDBPyConnection, source: str) -> bool:
    table = staging_table(source)
    return table_exists(conn, table) and conn.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0] > 0


def _until_sql(column: str) -> str:
    """`column` on or before the analysis date (bound as the query's date parameter)."""
    return f'"{column}" < CAST(? AS DATE) + INTERVAL 1 DAY'


def read_staging(conn: duckdb.DuckDBPyConnection, source: str, as_of: dt.date) -> pl.DataFrame | None:
    """The source's usable rows as of `as_of`, or None when the source has never delivered a row.

    Customers and products are reduced to their latest version per id; personal columns are
    left behind (they never leave staging). Event sources keep every row: the features decide
    what "after the analysis date" means for each of them.
    """
    if not has_rows(conn, source):
        return None
    if source in ("customers", "products"):
        return query_frame(conn, read_sql(f"staging/{source}_current"), [as_of])
    contract = SOURCES[source]
    columns = ", ".join(f'"{c}"' for c in contract.columns if c not in contract.personal)
    return query_frame(conn, f"SELECT {columns} FROM {staging_table(source)}")


_CHANNEL_CODE = " ".join(f"WHEN '{c}' THEN {i}" for i, c in enumerate(ORDER_CHANNELS) if i > 0)
_COMPLETED = "o.status = 'completed'"


def _only_sql(only: str | None, alias: str = "") -> str:
    """`AND customer_id IN <only>`: rows of the customers listed in table `only` (None: everyone)."""
    column = f"{alias}.customer_id" if alias else "customer_id"
    return f" AND {column} IN (SELECT customer_id FROM {only})" if only else ""


def _lines_sql(only: str | None = None) -> str:
    """Order lines up to as_of (one bound date) joined to the product lookup (registered as
    _product_lookup), with completed-only amounts (0 for other lines, so plain sums give
    "completed lines only") and small integer codes (a string per order costs far more memory)."""
    return f"""
    SELECT
        o.order_id,
        o.customer_id,
        o.ordered_at,
        p.category_code,
        p.brand_code,
        o.payment_days_late,
        {_COMPLETED} AS is_completed,
        o.status = 'returned' AS is_returned,
        o.status = 'cancelled' AS is_cancelled,
        o.occasion <> 'none' AS is_occasion,  -- null when the line records no occasion
        CAST(CASE o.channel {_CHANNEL_CODE} ELSE 0 END AS UTINYINT) AS channel_code,
        CASE WHEN {_COMPLETED} THEN coalesce(o.discount, 0) ELSE 0 END AS c_discount,
        CASE WHEN {_COMPLETED} THEN o.quantity * o.unit_price - coalesce(o.discount, 0) ELSE 0 END
            AS c_revenue,
        CASE WHEN {_COMPLETED} AND o.discount IS NOT NULL THEN o.quantity * o.unit_price ELSE 0 END
            AS c_gross_discount_known,
        -- NaN for an unknown product: the order's cost, hence margin, is then unknown.
        CASE WHEN {_COMPLETED} THEN o.quantity * coalesce(p.unit_cost, 'NaN'::DOUBLE) ELSE 0 END AS c_cost
    FROM {staging_table("orders")} AS o
    LEFT JOIN _product_lookup AS p USING (product_id)
    WHERE o.{_until_sql(EVENT_TIME["orders"])}{_only_sql(only, "o")}
"""


def _order_aggregates_sql(only: str | None = None) -> str:
    """One row per order up to as_of, counted or not: the one group-by of order lines by order."""
    return f"""
    SELECT
        order_id,
        min(customer_id) AS customer_id,
        min(ordered_at) AS ordered_at,
        min(channel_code) AS channel_code,
        sum(c_revenue) AS revenue,
        sum(c_discount) AS discount,
        sum(c_gross_discount_known) AS gross_discount_known,
        sum(c_cost) AS cost,
        bool_or(is_occasion) AS is_occasion,
        CAST(count(*) AS INTEGER) AS n_lines,
        CAST(count(*) FILTER (is_returned) AS INTEGER) AS returned_lines,
        CAST(count(*) FILTER (is_cancelled) AS INTEGER) AS cancelled_lines,
        max(payment_days_late) AS days_late
    FROM ({_lines_sql(only)})
    GROUP BY order_id
"""


def _top_codes_sql(key: str, only: str | None = None) -> str:
    """Per customer: the `key` code (category or brand) with the most completed revenue, and that
    revenue; the largest revenue wins, then the smallest code (the alphabetically first name)."""
    code = f"{key}_code"
    return f"""
        SELECT
            customer_id,
            arg_max({code}, (revenue, -CAST({code} AS BIGINT))) AS top_code,
            max(revenue) AS top_{key}_revenue
        FROM (
            SELECT customer_id, {code}, sum(c_revenue) AS revenue
            FROM ({_lines_sql(only)})
            WHERE is_completed AND {code} IS NOT NULL
            GROUP BY customer_id, {code}
        )
        GROUP BY customer_id
    """


def read_order_facts(
    conn: duckdb.DuckDBPyConnection, as_of: dt.date, products: pl.DataFrame | None, only: str | None = None
) -> OrderFacts | None:
    """The order facts (customer_features.OrderFacts) as of `as_of`, with DuckDB doing the lines.

    Why SQL here: order lines are the one big input (10.5M rows at 1M customers). Read into Polars
    (even narrowed) and grouped there, they took about the same CPU time as DuckDB aggregating them
    while it scans the table, but ~2 GB more memory: a ~0.9 GB frame of lines plus ~1.8 GB of
    group-by state (5.5M orders keyed by string ids). Here only the per-order aggregates (5.5M
    rows) and the top category and brand codes per customer (0.8M rows each) cross into Polars.

    The line-level work is this SQL only (tests/unit/test_customer_features.py checks it by hand);
    the rest (summary columns, names, every feature) is Polars, and the product lookup is the
    Polars one (customer_features.product_lookup: the codes the names are joined back on).
    None when staging.orders has no rows. `only`: a table of the customer_ids to read (default: all).
    """
    if not has_rows(conn, "orders"):
        return None
    conn.register("_product_lookup", product_lookup(products))
    try:
        aggregates = query_frame(conn, _order_aggregates_sql(only), [as_of])
        top_category = query_frame(conn, _top_codes_sql("category", only), [as_of])
        top_brand = query_frame(conn, _top_codes_sql("brand", only), [as_of])
    finally:
        conn.unregister("_product_lookup")
    return order_facts(aggregates, top_category, top_brand, products)


def read_feature_sources(
    conn: duckdb.DuckDBPyConnection, as_of: dt.date, only: str | None = None
) -> dict[str, pl.DataFrame | None]:
    """Every source but orders as the features need it: only the columns they use, nothing after as_of.

    Keys are the source names but "orders" (see `read_order_facts`). A source that has never
    delivered a row is None (as in `read_staging`). Reading less (and filtering in DuckDB) keeps
    what crosses into Polars small; the features apply the same as_of rules again. `only`: a table
    of the customer_ids to read (default: all; products are always read whole).
    """
    frames: dict[str, pl.DataFrame | None] = {"products": read_staging(conn, "products", as_of)}
    for source in ("customers", "surveys", "social", "service"):
        if not has_rows(conn, source):
            frames[source] = None
            continue
        columns = ", ".join(f'"{c}"' for c in SOURCE_COLUMNS[source])
        if source == "customers":
            sql = (
                f"SELECT {columns} FROM ({read_sql('staging/customers_current')}) WHERE true{_only_sql(only)}"
            )
        else:
            until = _until_sql(EVENT_TIME[source])
            sql = f"SELECT {columns} FROM {staging_table(source)} WHERE {until}{_only_sql(only)}"
        frames[source] = query_frame(conn, sql, [as_of])
    return frames
