"""The online-shop export generator writes what real invoice exports look like, and nothing they lack."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import polars as pl
import pytest

from segmentation_pipeline.cli import main
from segmentation_pipeline.synth.real_like import generate_online_shop_export

END = dt.date(2026, 6, 30)
REQUIRED_ORDER_COLUMNS = ["order_id", "line_number", "customer_id", "ordered_at", "channel", "product_id",
                          "quantity", "unit_price", "status"]  # fmt: skip


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> tuple[Path, pl.DataFrame, pl.DataFrame]:
    out = tmp_path_factory.mktemp("export")
    generate_online_shop_export(out, customers=400, seed=5, end_date=END)
    orders = pl.read_csv(out / "raw" / "orders" / "*.csv", infer_schema=False).with_columns(
        pl.col("quantity").cast(pl.Int64), pl.col("unit_price").cast(pl.Float64)
    )
    products = pl.read_csv(out / "raw" / "products" / "*.csv", infer_schema=False)
    return out, orders, products


def digest(folder: Path) -> str:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return hashlib.sha256(
        b"".join(p.relative_to(folder).as_posix().encode() + p.read_bytes() for p in files)
    ).hexdigest()


def test_only_orders_products_and_customers_land_for_one_year(export):
    out, _, _ = export
    assert sorted(p.name for p in (out / "raw").iterdir()) == ["customers", "orders", "products"]
    days = sorted(p.name for p in (out / "raw" / "orders").iterdir())
    assert len(days) == 365 and days[0] == "orders_2025-07-01.csv" and days[-1] == f"orders_{END}.csv"
    assert sorted(p.name for p in (out / "truth").iterdir()) == ["customers.parquet", "export.json"]


def test_orders_carry_the_contract_columns_without_occasion_discount_or_payment(export):
    out, orders, _ = export
    assert orders.columns == REQUIRED_ORDER_COLUMNS
    assert set(orders["channel"]) == {"online"} and set(orders["status"]) == {"completed", "cancelled"}
    assert orders["ordered_at"].str.contains(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$").all()
    assert (orders["quantity"] >= 1).all() and (orders["unit_price"] >= 0).all()


def test_a_quarter_of_the_lines_are_guest_checkouts(export):
    _, orders, _ = export
    share = orders["customer_id"].is_null().mean()  # an empty field, as the export writes guests
    assert 0.2 < share < 0.3


def test_cancellations_are_separate_invoices_repeating_an_earlier_invoice_of_the_customer(export):
    _, orders, _ = export
    cancellations = orders.filter(pl.col("order_id").str.starts_with("C"))
    assert cancellations.height > 0 and set(cancellations["status"]) == {"cancelled"}
    assert set(orders.filter(~pl.col("order_id").str.starts_with("C"))["status"]) == {"completed"}
    earlier = cancellations.join(
        orders.filter(pl.col("status") == "completed"), on=["customer_id", "product_id"], suffix="_sale"
    ).filter(pl.col("ordered_at_sale") < pl.col("ordered_at"))
    assert earlier["order_id"].n_unique() == cancellations["order_id"].n_unique()


def test_non_product_lines_have_no_product_record_and_products_no_cost(export):
    _, orders, products = export
    assert "unit_cost" not in products.columns
    assert {"product_id", "category", "updated_at"} <= set(products.columns)
    codes = set(orders["product_id"]) - set(products["product_id"])
    assert codes == {"POST", "M", "BANK CHARGES"}


def test_customers_files_hold_only_id_country_and_updated_at(export):
    out, orders, _ = export
    customers = pl.read_csv(out / "raw" / "customers" / "*.csv", infer_schema=False)
    assert customers.columns == ["customer_id", "country", "updated_at"]
    assert set(customers["customer_id"]) == set(orders["customer_id"].drop_nulls())
    assert customers["country"].str.contains(r"^[A-Z]{2}$").all()


def test_same_arguments_same_bytes_and_the_cli_writes_it(export, tmp_path):
    out, _, _ = export
    args = ["generate", "--export", "online-shop", "--customers", "400", "--seed", "5", "--end", str(END)]
    assert main([*args, "--out", str(tmp_path)]) == 0
    assert digest(tmp_path / "raw") == digest(out / "raw")
    assert main([*args, "--out", str(tmp_path)]) == 2  # refuses to land over existing files
