"""Reading validated staging tables into Polars, as of the analysis date, without personal data."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from segmentation_pipeline.contracts import SOURCES
from segmentation_pipeline.features.inputs import EVENT_TIME, SOURCE_COLUMNS
from segmentation_pipeline.features.order_features import OrderFacts, order_facts, product_lookup
from segmentation_pipeline.staging.tables import staging_table
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


def _only_sql(only: str | None, alias: str = "") -> str:
    """`AND customer_id IN <only>`: rows of the customers listed in table `only` (None: everyone)."""
    column = f"{alias}.customer_id" if alias else "customer_id"
    return f" AND {column} IN (SELECT customer_id FROM {only})" if only else ""


def read_order_facts(
    conn: duckdb.DuckDBPyConnection, as_of: dt.date, products: pl.DataFrame | None, only: str | None = None
) -> OrderFacts | None:
    """The order facts (features.order_features.OrderFacts) as of `as_of`, with DuckDB doing the lines.

    Why SQL here (sql/features/order_lines.sql, order_aggregates.sql, top_codes.sql): order
    lines are the one big input (ten per customer). Read into Polars (even narrowed) and grouped
    there, they took about the same CPU time as DuckDB aggregating them while it scans the table,
    but far more memory: the frame of lines plus the group-by state of every order keyed by string
    ids. Here only the per-order aggregates (5.5M
    rows) and the top category and brand codes per customer (0.8M rows each) cross into Polars.

    The line-level work is that SQL only (tests/unit/test_customer_features.py checks it by hand);
    the rest (summary columns, names, every feature) is Polars, and the product lookup is the
    Polars one (features.order_features.product_lookup: the codes the names are joined back on).
    None when staging.orders has no rows. `only`: a table of the customer_ids to read (default: all).
    """
    if not has_rows(conn, "orders"):
        return None
    scope = f"SELECT * FROM {staging_table('orders')} WHERE true{_only_sql(only)}"
    conn.execute(f"CREATE OR REPLACE TEMP VIEW _order_scope AS {scope}")
    conn.register("_product_lookup", product_lookup(products))
    try:
        conn.execute(read_sql("features/order_lines"))  # binds its tables: after the lookup
        aggregates = query_frame(conn, read_sql("features/order_aggregates"), [as_of])
        top_codes = query_frame(conn, read_sql("features/top_codes"), [as_of, as_of])
    finally:
        conn.unregister("_product_lookup")
        conn.execute("DROP MACRO TABLE IF EXISTS _order_lines")
        conn.execute("DROP VIEW IF EXISTS _order_scope")
    top_category, top_brand = (
        top_codes.filter(pl.col("key") == key).select(
            "customer_id", "top_code", pl.col("top_revenue").alias(f"top_{key}_revenue")
        )
        for key in ("category", "brand")
    )
    return order_facts(aggregates, top_category, top_brand, products)


def _customers_current(conn: duckdb.DuckDBPyConnection, only: str | None) -> str:
    """customers_current.sql over every version, or over only the versions of the customers in `only`.

    Filtering its result instead groups every version of every customer first: at 10M customers
    (12.3M versions) that GROUP BY alone ran out of a 1 GB DuckDB limit in each bucket step. A
    temporary table rather than a view, because the query picks rows by their table's rowid.
    """
    current = read_sql("staging/customers_current")
    if only is None:
        return current
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE _customer_versions AS "
        f"SELECT * FROM {staging_table('customers')} WHERE true{_only_sql(only)}"
    )
    return current.replace(staging_table("customers"), "_customer_versions")


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
            sql = f"SELECT {columns} FROM ({_customers_current(conn, only)})"
        else:
            until = _until_sql(EVENT_TIME[source])
            sql = f"SELECT {columns} FROM {staging_table(source)} WHERE {until}{_only_sql(only)}"
        frames[source] = query_frame(conn, sql, [as_of])
    return frames
