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


PRODUCT = {"product_id": "P1", "category": "home", "brand": "Acme", "updated_at": dt.datetime(2024, 1, 1)}


def stage_two_groups(database: Path) -> None:
    """40 buyers in two plainly different groups, as of AS_OF, on one product without unit cost
    (values on revenue): weekly<n> (n = 0..19) bought 8 times in store, weekly, 200 + n each,
    the last 2025-06-28 minus n % 3 days; oneoff<n> bought once online, 15 + n % 4, on
    2024-06-01 plus n days."""
    stage(database, "products", [PRODUCT])
    lines = []
    for n in range(20):
        lines += [
            order_line(f"w{n}-{k}", f"weekly{n}", dt.date(2025, 6, 28) - dt.timedelta(7 * k + n % 3), "P1",
                       200.0 + n, channel="store")
            for k in range(8)
        ]  # fmt: skip
        lines.append(
            order_line(f"o{n}", f"oneoff{n}", dt.date(2024, 6, 1) + dt.timedelta(n), "P1", 15.0 + n % 4)
        )
    stage(database, "orders", lines)


def stage_shop(database: Path) -> None:
    """The two groups of `stage_two_groups`, a prospect p1 (signed up 2025-05-01, no order) and
    service tickets for the weekly buyers only: each weekly<n> has a resolved ticket of effort 2
    (2025-03-01) and an open one of effort 4 (2025-06-01 plus n days; no resolution recorded for
    even n, resolved = false for odd n)."""
    stage_two_groups(database)
    stage(database, "customers", [
        {"customer_id": "p1", "signup_date": dt.date(2025, 5, 1), "updated_at": dt.datetime(2025, 5, 1)},
    ])  # fmt: skip
    tickets = []
    for n in range(20):
        tickets += [
            {"ticket_id": f"a{n}", "customer_id": f"weekly{n}", "opened_at": dt.datetime(2025, 3, 1, 9),
             "channel": "email", "effort_score": 2, "resolved": True},
            {"ticket_id": f"b{n}", "customer_id": f"weekly{n}",
             "opened_at": dt.datetime(2025, 6, 1, 9) + dt.timedelta(days=n), "channel": "phone",
             "effort_score": 4, "resolved": None if n % 2 == 0 else False},
        ]  # fmt: skip
    stage(database, "service", tickets)


def materialize(assets: list, data_dir: Path, **settings: object) -> dg.ExecuteInProcessResult:
    """The assets (and their checks) on data_dir/warehouse.duckdb with the project's resources."""
    config = Settings(data_dir=data_dir, as_of=AS_OF.isoformat(), settle_seconds=0, **settings)
    database = DuckDBResource(database=str(data_dir / "warehouse.duckdb"))
    return dg.materialize(assets, resources=resources(config, database), raise_on_error=False)
