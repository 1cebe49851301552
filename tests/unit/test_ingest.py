"""Ingestion on hand-made landing files: parsing, rules, quarantine, accounting, incremental reloads."""

from __future__ import annotations

import datetime as dt
import json
import os

import polars as pl
import pytest

from segmentation_pipeline.contracts import SOURCES
from segmentation_pipeline.staging.load import load_source
from segmentation_pipeline.staging.validate import parse_column, parse_timestamp
from tests.conftest import AS_OF, ORDER_HEADER, write_landing

GOOD_LINES = [
    "o1,1,c1,2025-01-01T10:00:00,online,p1,2,10.0,1,completed,none,0",
    "o1,2,c1,2025-01-01T10:00:00,online,p2,1,5.0,,completed,gift,",
    "o2,1,c2,2025-01-01T11:00:00+02:00,store,p1,1,10.0,0,returned,none,3",
]


def orders_csv(*lines: str) -> str:
    return "\n".join([ORDER_HEADER, *lines]) + "\n"


def quarantine(conn, source="orders") -> list[tuple]:
    return conn.execute(
        f"SELECT _source_file, _row_number, rule FROM quarantine.{source} ORDER BY _source_file, _row_number"
    ).fetchall()


def accounting(conn) -> list[tuple]:
    return conn.execute(
        "SELECT file, status, rows_received, rows_loaded, rows_quarantined FROM ops.landing_files ORDER BY file"
    ).fetchall()


def test_timestamps_with_and_without_offset_become_utc():
    values = pl.Series(["2025-03-01T10:00:00", "2025-03-01T10:00:00+02:00", "2025-03-01 10:00:00Z", "nope"])
    parsed = pl.select(parse_timestamp(pl.lit(values))).to_series().to_list()
    assert parsed[:3] == [
        dt.datetime(2025, 3, 1, 10),
        dt.datetime(2025, 3, 1, 8),
        dt.datetime(2025, 3, 1, 10),
    ]
    assert parsed[3] is None


@pytest.mark.parametrize(
    ("text", "dtype", "expected"),
    [("3", pl.Int32, 3), ("3.0", pl.Int32, 3), ("3.5", pl.Int32, None), ("abc", pl.Int32, None),
     ("99999999999999999999", pl.Int64, None), ("1e3", pl.Float64, 1000.0), ("inf", pl.Float64, None),
     ("TRUE", pl.Boolean, True), ("no", pl.Boolean, False), ("maybe", pl.Boolean, None)],
)  # fmt: skip
def test_parse_column(text, dtype, expected):
    assert pl.select(parse_column(pl.lit(text), dtype)).item() == expected


def test_good_rows_load_typed_with_lineage(conn, raw_dir):
    write_landing(raw_dir, "orders", "2025-01-01", orders_csv(*GOOD_LINES))
    load = load_source(conn, raw_dir, SOURCES["orders"], AS_OF, "run-1")
    assert (load.rows_received, load.rows_loaded, load.rows_quarantined) == (3, 3, 0)
    rows = conn.execute(
        "SELECT order_id, line_number, ordered_at, discount, payment_days_late, _row_number FROM staging.orders ORDER BY 1, 2"
    ).fetchall()
    assert rows[0] == ("o1", 1, dt.datetime(2025, 1, 1, 10), 1.0, 0, 1)
    assert rows[1][3] is None and rows[1][4] is None  # empty optional values are NULL, not 0
    assert rows[2][2] == dt.datetime(2025, 1, 1, 9)  # +02:00 converted to UTC


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        (
            "o9,1,c1,2025-01-01T10:00:00,online,p1,0,10.0,0,completed,none,0",
            "quantity: greater_than_or_equal_to(1)",
        ),
        (
            "o9,1,c1,2025-01-01T10:00:00,online,p1,1,-1,0,completed,none,0",
            "unit_price: greater_than_or_equal_to(0)",
        ),
        ("o9,1,c1,2025-01-01T10:00:00,drone,p1,1,10.0,0,completed,none,0", "channel: isin"),
        ("o9,1,c1,2025-01-01T10:00:00,online,p1,1,10.0,0,shipped,none,0", "status: isin"),
        ("o9,1,c1,2025-01-01T10:00:00,online,p1,1,10.0,0,completed,party,0", "occasion: isin"),
        (
            "o9,1,c1,2025-01-01T10:00:00,online,p1,2,10.0,25,completed,none,0",
            "discount <= quantity x unit_price",
        ),
        (
            "o9,1,c1,2025-01-05T10:00:00,online,p1,1,10.0,0,completed,none,0",
            "ordered_at not after landing date + 1 day",
        ),
        ("o9,1,c1,2025-13-45T10:00:00,online,p1,1,10.0,0,completed,none,0", "parse:ordered_at"),
        ("o9,1,c1,2025-01-01T10:00:00,online,p1,abc,10.0,0,completed,none,0", "parse:quantity"),
        ("o9,1,,2025-01-01T10:00:00,online,p1,1,10.0,0,completed,none,0", "missing:customer_id"),
        (
            "o9,0,c1,2025-01-01T10:00:00,online,p1,1,10.0,0,completed,none,0",
            "line_number: greater_than_or_equal_to(1)",
        ),
        (
            "o9,1,c1,2025-01-01T10:00:00,online,p1,1,10.0,0,completed,none,-2",
            "payment_days_late: greater_than_or_equal_to(0)",
        ),
    ],
)
def test_each_forbidden_value_is_quarantined_with_its_rule(conn, raw_dir, line, rule):
    write_landing(raw_dir, "orders", "2025-01-01", orders_csv(*GOOD_LINES, line))
    load = load_source(conn, raw_dir, SOURCES["orders"], AS_OF)
    assert (load.rows_loaded, load.rows_quarantined) == (3, 1)
    [(file, row_number, found)] = quarantine(conn)
    assert (file, row_number) == ("orders/orders_2025-01-01.csv", 4)
    assert rule in found
    raw = conn.execute("SELECT raw_values FROM quarantine.orders").fetchall()[0][0]
    assert json.loads(raw)["order_id"] == "o9"  # the raw values are kept as received


def test_duplicates_within_and_across_files_keep_the_first(conn, raw_dir):
    write_landing(raw_dir, "orders", "2025-01-01", orders_csv(*GOOD_LINES, GOOD_LINES[0]))
    write_landing(
        raw_dir, "orders", "2025-01-02", orders_csv(GOOD_LINES[2].replace("2025-01-01", "2025-01-02"))
    )
    load = load_source(conn, raw_dir, SOURCES["orders"], AS_OF)
    assert (load.rows_loaded, load.rows_quarantined) == (3, 2)
    rules = quarantine(conn)
    assert rules[0][:2] == ("orders/orders_2025-01-01.csv", 4)
    assert "first seen in orders/orders_2025-01-01.csv row 1" in rules[0][2]
    assert rules[1][:2] == ("orders/orders_2025-01-02.csv", 1)
    assert "first seen in orders/orders_2025-01-01.csv row 3" in rules[1][2]


def test_duplicate_against_an_earlier_run_is_quarantined(conn, raw_dir):
    write_landing(raw_dir, "orders", "2025-01-01", orders_csv(*GOOD_LINES))
    load_source(conn, raw_dir, SOURCES["orders"], AS_OF)
    write_landing(
        raw_dir, "orders", "2025-01-02", orders_csv(GOOD_LINES[0].replace("2025-01-01", "2025-01-02"))
    )
    load = load_source(conn, raw_dir, SOURCES["orders"], AS_OF)
    assert (load.rows_loaded, load.rows_quarantined) == (0, 1)
    assert "first seen in orders/orders_2025-01-01.csv row 1" in quarantine(conn)[0][2]


def test_unreadable_and_broken_files(conn, raw_dir):
    write_landing(raw_dir, "orders", "2025-01-01", orders_csv(*GOOD_LINES))
    write_landing(raw_dir, "orders", "2025-01-02", "")  # empty
    write_landing(raw_dir, "orders", "2025-01-03", "order_id,line_number\no1,1\n")  # missing required columns
    latin1 = orders_csv(GOOD_LINES[0].replace("o1", "o7").replace("2025-01-01", "2025-01-04")).replace(
        "p1", "pé"
    )
    write_landing(raw_dir, "orders", "2025-01-04", latin1.encode("latin-1"))
    truncated = orders_csv(
        *[
            g.replace("2025-01-01", "2025-01-05").replace("o1,", "t1,").replace("o2,", "t2,")
            for g in GOOD_LINES
        ]
    )[:-15]
    write_landing(raw_dir, "orders", "2025-01-05", truncated)
    write_landing(raw_dir, "orders", "2025-01-06", b"PAR1 not really parquet", ext="parquet")
    write_landing(raw_dir, "orders", "2025-01-07", orders_csv(GOOD_LINES[0] + ",surplus"))  # ragged row
    write_landing(raw_dir, "orders", "notadate", orders_csv(*GOOD_LINES))
    load = load_source(conn, raw_dir, SOURCES["orders"], AS_OF)
    table = {row[0].split("/")[-1]: row[1:] for row in accounting(conn)}
    assert table["orders_2025-01-01.csv"] == ("loaded", 3, 3, 0)
    assert table["orders_2025-01-02.csv"] == ("empty", 0, 0, 0)
    assert table["orders_2025-01-03.csv"] == ("rejected", 1, 0, 1)
    assert table["orders_2025-01-04.csv"] == ("rejected", 1, 0, 1)
    assert table["orders_2025-01-05.csv"] == ("partially_loaded", 3, 2, 1)
    assert table["orders_2025-01-06.parquet"][:2] == ("rejected", None)
    assert table["orders_2025-01-07.csv"] == ("rejected", 1, 0, 1)
    assert table["orders_notadate.csv"][:2] == ("rejected", None)
    rules = {(f.split("/")[-1], n): r for f, n, r in quarantine(conn)}
    assert "missing required column(s): customer_id" in rules[("orders_2025-01-03.csv", 1)]
    assert "not valid UTF-8" in rules[("orders_2025-01-04.csv", 1)]
    assert "truncated file" in rules[("orders_2025-01-05.csv", 3)]
    assert "unreadable Parquet file" in rules[("orders_2025-01-06.parquet", None)]
    assert "malformed row" in rules[("orders_2025-01-07.csv", 1)]
    assert "file name does not follow" in rules[("orders_notadate.csv", None)]
    # Every readable file: rows received = rows loaded + rows quarantined.
    for _, _, received, loaded, rejected in accounting(conn):
        assert received is None or received == loaded + rejected
    assert load.rows_loaded == 5


def test_blank_lines_are_not_rows(conn, raw_dir):
    write_landing(raw_dir, "orders", "2025-01-01", orders_csv(GOOD_LINES[0], "", GOOD_LINES[1]) + "\n")
    load = load_source(conn, raw_dir, SOURCES["orders"], AS_OF)
    assert (load.rows_received, load.rows_loaded, load.rows_quarantined) == (2, 2, 0)
    assert conn.execute("SELECT _row_number FROM staging.orders ORDER BY 1").fetchall() == [(1,), (3,)]


def test_extra_columns_are_ignored_with_a_warning_and_missing_optional_columns_are_null(conn, raw_dir):
    header = (
        "order_id,line_number,customer_id,ordered_at,channel,product_id,quantity,unit_price,status,coupon"
    )
    write_landing(
        raw_dir,
        "orders",
        "2025-01-01",
        f"{header}\no1,1,c1,2025-01-01T10:00:00,online,p1,1,2.5,completed,X\n",
    )
    load = load_source(conn, raw_dir, SOURCES["orders"], AS_OF)
    assert load.rows_loaded == 1
    assert load.warnings == ["orders/orders_2025-01-01.csv: extra columns ignored: coupon"]
    assert conn.execute("SELECT discount, occasion FROM staging.orders").fetchall() == [(None, None)]


def test_rerun_changes_nothing_and_a_relanded_file_replaces_its_rows(conn, raw_dir):
    path = write_landing(
        raw_dir,
        "orders",
        "2025-01-01",
        orders_csv(*GOOD_LINES[:2], GOOD_LINES[2].replace("1,10.0,0,returned", "0,10.0,0,returned")),
    )
    write_landing(
        raw_dir,
        "orders",
        "2025-01-02",
        orders_csv(GOOD_LINES[0].replace("o1", "o5").replace("2025-01-01", "2025-01-02")),
    )
    load_source(conn, raw_dir, SOURCES["orders"], AS_OF)
    snapshot = conn.execute("SELECT * EXCLUDE (_loaded_at) FROM staging.orders ORDER BY ALL").fetchall()
    assert len(quarantine(conn)) == 1

    again = load_source(conn, raw_dir, SOURCES["orders"], AS_OF)
    assert (again.files_unchanged, len(again.outcomes)) == (2, 0)
    assert (
        conn.execute("SELECT * EXCLUDE (_loaded_at) FROM staging.orders ORDER BY ALL").fetchall() == snapshot
    )

    # Touching a file without changing it reloads nothing.
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert load_source(conn, raw_dir, SOURCES["orders"], AS_OF).outcomes == []

    # The corrected file replaces exactly its own rows; the other file is untouched.
    path.write_text(orders_csv(*GOOD_LINES))
    relanded = load_source(conn, raw_dir, SOURCES["orders"], AS_OF)
    assert [o.file.relpath for o in relanded.outcomes] == ["orders/orders_2025-01-01.csv"]
    assert quarantine(conn) == []
    assert conn.execute("SELECT count(*) FROM staging.orders").fetchall() == [(4,)]
    assert accounting(conn)[0][1:] == ("loaded", 3, 3, 0)


def test_files_after_the_analysis_date_wait_for_a_later_run(conn, raw_dir):
    write_landing(raw_dir, "orders", "2025-01-01", orders_csv(*GOOD_LINES))
    write_landing(
        raw_dir,
        "orders",
        "2025-02-15",
        orders_csv(GOOD_LINES[0].replace("o1", "o8").replace("2025-01-01", "2025-02-15")),
    )
    load = load_source(conn, raw_dir, SOURCES["orders"], AS_OF)
    assert (load.files_deferred, load.rows_loaded) == (1, 3)


def test_customers_keep_every_version_and_jsonl_parquet_are_read(conn, raw_dir):
    header = "customer_id,email,birth_year,gender,country,updated_at"
    write_landing(
        raw_dir, "customers", "2025-01-01", f"{header}\nc1,a@b.fr,1987,male,FR,2025-01-01T00:00:00\n"
    )
    write_landing(
        raw_dir, "customers", "2025-01-02", f"{header}\nc1,a@b.fr,1987,male,BE,2025-01-02T00:00:00\n"
    )
    load = load_source(conn, raw_dir, SOURCES["customers"], AS_OF)
    assert (load.rows_loaded, load.rows_quarantined) == (2, 0)  # versions, not duplicates
    service = raw_dir / "service" / "service_2025-01-01.jsonl"
    service.parent.mkdir()
    service.write_text(
        '{"ticket_id": "t1", "customer_id": "c1", "opened_at": "2025-01-01T09:00:00", "effort_score": 7, "resolved": true}\n'
        '{"ticket_id": "t2", "customer_id": "c1", "opened_at": "2025-01-01T09:00:00", "effort_score": 11}\n'
        '{"ticket_id": "t3", "customer_id": "c1", "opened_at"\n'
    )
    load = load_source(conn, raw_dir, SOURCES["service"], AS_OF)
    assert (load.rows_received, load.rows_loaded, load.rows_quarantined) == (3, 1, 2)
    assert conn.execute("SELECT effort_score, resolved FROM staging.service").fetchall() == [(7, True)]
    products = raw_dir / "products" / "products_2025-01-01.parquet"
    products.parent.mkdir()
    pl.DataFrame({"product_id": ["p1", "p2"], "category": ["home", "home"], "unit_cost": [2.0, -1.0],
                  "updated_at": [dt.datetime(2025, 1, 1)] * 2}).write_parquet(products)  # fmt: skip
    load = load_source(conn, raw_dir, SOURCES["products"], AS_OF)
    assert (load.rows_loaded, load.rows_quarantined) == (1, 1)


def test_huge_numbers_are_quarantined_not_wrapped(conn, raw_dir):
    huge = GOOD_LINES[0].replace("o1,1,c1", "o9,1,c1").replace(",2,10.0,", ",99999999999999999999,1e400,")
    write_landing(raw_dir, "orders", "2025-01-01", orders_csv(*GOOD_LINES, huge))
    load = load_source(conn, raw_dir, SOURCES["orders"], AS_OF)
    assert (load.rows_loaded, load.rows_quarantined) == (3, 1)
    [(_, _, rule)] = quarantine(conn)
    assert "parse:quantity" in rule and "parse:unit_price" in rule


def test_schema_drift_reordered_and_missing_optional_columns_load(conn, raw_dir):
    header = "status,unit_price,quantity,product_id,channel,ordered_at,customer_id,line_number,order_id"
    write_landing(
        raw_dir, "orders", "2025-01-01", f"{header}\ncompleted,2.5,1,p1,online,2025-01-01T10:00:00,c1,1,o1\n"
    )
    load = load_source(conn, raw_dir, SOURCES["orders"], AS_OF)
    assert (load.rows_loaded, load.rows_quarantined, load.warnings) == (1, 0, [])
    assert conn.execute("SELECT order_id, quantity, unit_price, discount FROM staging.orders").fetchall() == [
        ("o1", 1, 2.5, None)
    ]


def test_a_late_file_for_a_past_day_loads_in_a_later_run(conn, raw_dir):
    write_landing(
        raw_dir, "orders", "2025-01-05", orders_csv(GOOD_LINES[0].replace("2025-01-01", "2025-01-05"))
    )
    load_source(conn, raw_dir, SOURCES["orders"], AS_OF)
    # The file for 2025-01-02 arrives after later days were loaded: it loads, nothing else moves.
    write_landing(
        raw_dir, "orders", "2025-01-02", orders_csv(GOOD_LINES[1].replace("2025-01-01", "2025-01-02"))
    )
    late = load_source(conn, raw_dir, SOURCES["orders"], AS_OF)
    assert [o.file.relpath for o in late.outcomes] == ["orders/orders_2025-01-02.csv"]
    assert late.rows_loaded == 1
    assert conn.execute("SELECT count(*) FROM staging.orders").fetchall() == [(2,)]


def test_a_file_for_a_future_day_waits_and_rows_dated_in_the_future_are_rejected(conn, raw_dir):
    future = AS_OF + dt.timedelta(days=3)
    write_landing(
        raw_dir,
        "orders",
        future.isoformat(),
        orders_csv(GOOD_LINES[0].replace("2025-01-01", future.isoformat())),
    )
    write_landing(
        raw_dir, "orders", "2025-01-01", orders_csv(GOOD_LINES[0].replace("2025-01-01T", "2025-03-01T"))
    )
    load = load_source(conn, raw_dir, SOURCES["orders"], AS_OF)
    assert load.files_deferred == 1
    assert (
        load.rows_quarantined == 1 and "ordered_at not after landing date + 1 day" in quarantine(conn)[0][2]
    )
    later = load_source(conn, raw_dir, SOURCES["orders"], future)
    assert later.rows_loaded == 1
