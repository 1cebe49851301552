"""Hand-written upstream rows for the asset tests: typed staging rows and a run of chosen assets.

Rows go straight into staging.<source>, typed by the landing contract, so an asset test starts
from data whose every figure can be worked out by hand (ingestion has its own tests).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
from dagster_duckdb import DuckDBResource

from segmentation_pipeline.contracts import SOURCES
from segmentation_pipeline.definitions import resources
from segmentation_pipeline.settings import Settings
from segmentation_pipeline.staging.tables import ensure_source_tables, staging_table
from segmentation_pipeline.warehouse.tables import ensure_schemas

AS_OF = dt.date(2025, 6, 30)


def stage(database: Path, source: str, rows: list[dict]) -> None:
    """Rows typed as the landing contract says (left-out columns null) into staging.<source>."""
    schema = SOURCES[source].columns
    frame = pl.DataFrame([{c: row.get(c) for c in schema} for row in rows], schema=schema, orient="row")
    frame = frame.with_columns(
        _source_file=pl.lit(f"{source}_2025-06-30.csv"),
        _row_number=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
        _landing_date=pl.lit(AS_OF),
        _loaded_at=pl.lit(dt.datetime(2025, 6, 30, 12)),
    )
    with duckdb.connect(str(database)) as conn:
        ensure_schemas(conn)
        ensure_source_tables(conn, SOURCES[source])
        conn.register("_rows", frame)
        conn.execute(f"INSERT INTO {staging_table(source)} BY NAME SELECT * FROM _rows")


def order_line(
    order: str, customer: str, day: dt.date, product: str, price: float, **columns: object
) -> dict:
    """One completed, undiscounted, punctually paid online line of quantity 1; `columns` override."""
    return {
        "order_id": order, "line_number": 1, "customer_id": customer,
        "ordered_at": dt.datetime.combine(day, dt.time(10)), "channel": "online", "product_id": product,
        "quantity": 1, "unit_price": price, "discount": 0.0, "status": "completed", "occasion": "none",
        "payment_days_late": 0, **columns,
    }  # fmt: skip


def materialize(assets: list, data_dir: Path, **settings: object) -> dg.ExecuteInProcessResult:
    """The assets (and their checks) on data_dir/warehouse.duckdb with the project's resources."""
    config = Settings(data_dir=data_dir, as_of=AS_OF.isoformat(), settle_seconds=0, **settings)
    database = DuckDBResource(database=str(data_dir / "warehouse.duckdb"))
    return dg.materialize(assets, resources=resources(config, database), raise_on_error=False)
