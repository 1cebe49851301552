"""Shared fixtures: a landing zone written by hand, file by file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from segmentation_pipeline.warehouse import ensure_schemas

ORDER_HEADER = "order_id,line_number,customer_id,ordered_at,channel,product_id,quantity,unit_price,discount,status,occasion,payment_days_late"


def write_landing(raw_dir: Path, source: str, day: str, text: str | bytes, ext: str = "csv") -> Path:
    path = raw_dir / source / f"{source}_{day}.{ext}"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


@pytest.fixture
def raw_dir(tmp_path: Path) -> Path:
    path = tmp_path / "raw"
    path.mkdir()
    return path


@pytest.fixture
def conn(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ensure_schemas(connection)
    yield connection
    connection.close()


AS_OF = dt.date(2025, 1, 31)
