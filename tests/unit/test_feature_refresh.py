"""Incremental feature builds: day after day they equal a full build, and they fall back to one when they must.

A generated landing zone (with faults) is landed one day at a time, as the daily job sees it,
with a file held back and landed late, a two-day gap, a re-landed file, a product catalogue
update and an erasure along the way. After each day's incremental build, a copy of the
warehouse gets a full build, and both feature tables must match.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from segmentation_pipeline.contracts import SOURCES
from segmentation_pipeline.features import refresh
from segmentation_pipeline.features.build import (
    CUSTOMER_FEATURES,
    CUSTOMER_ORDERS,
    FeatureTables,
    build_feature_tables,
)
from segmentation_pipeline.publication.erasure import erase_customers
from segmentation_pipeline.staging.load import load_source
from segmentation_pipeline.synth import generate_landing_zone
from segmentation_pipeline.warehouse.tables import ensure_schemas

END = dt.date(2026, 6, 30)
DAYS = 45
FIRST = END - dt.timedelta(days=9)  # the first (full) build; the days after it are incremental
DATED = re.compile(r"_(\d{4}-\d{2}-\d{2})\.")
COST = 2.0


def file_date(path: Path) -> dt.date:
    return dt.date.fromisoformat(DATED.search(path.name).group(1))


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("refresh") / "generated"
    generate_landing_zone(root, customers=250, days=DAYS, seed=13, end_date=END, faults=True)
    return root


def land(generated: Path, raw: Path, up_to: dt.date, hold_back: set[str] = frozenset()) -> None:
    """Copy every generated file dated on or before `up_to` (but those held back) into `raw`."""
    for path in (generated / "raw").rglob("*"):
        if not path.is_file() or path.name in hold_back or file_date(path) > up_to:
            continue
        target = raw / path.relative_to(generated / "raw")
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def daily_run(warehouse: Path, raw: Path, as_of: dt.date) -> FeatureTables:
    with duckdb.connect(str(warehouse)) as conn:
        ensure_schemas(conn)
        for contract in SOURCES.values():
            load_source(conn, raw, contract, as_of)
        return build_feature_tables(conn, as_of, COST)


def tables(warehouse: Path, full: bool) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Both feature tables of `warehouse`, or of a fully rebuilt copy of it."""
    if full:
        copy = warehouse.with_name("full_copy.duckdb")
        shutil.copyfile(warehouse, copy)
        warehouse = copy
    with duckdb.connect(str(warehouse)) as conn:
        if full:
            as_of = conn.execute(f"SELECT max(as_of_date) FROM {CUSTOMER_FEATURES}").fetchall()[0][0]
            assert build_feature_tables(conn, as_of, COST, full_refresh=True).mode == refresh.FULL
        orders = conn.sql(f"SELECT * FROM {CUSTOMER_ORDERS} ORDER BY order_id").pl()
        features = conn.sql(f"SELECT * FROM {CUSTOMER_FEATURES} ORDER BY customer_id").pl()
    return orders, features


def assert_same_as_full_build(warehouse: Path) -> None:
    orders, features = tables(warehouse, full=False)
    full_orders, full_features = tables(warehouse, full=True)
    assert_frame_equal(orders, full_orders, check_exact=False, rel_tol=1e-9)
    assert_frame_equal(features, full_features, check_exact=False, rel_tol=1e-9)


@pytest.mark.slow  # eight daily loads and builds, each checked against a full rebuild (~15 s)
def test_incremental_builds_match_a_full_build_day_after_day(generated: Path, tmp_path: Path) -> None:
    raw, warehouse = tmp_path / "raw", tmp_path / "warehouse.duckdb"
    late = f"service_{(FIRST - dt.timedelta(days=3)).isoformat()}.jsonl"
    land(generated, raw, FIRST, hold_back={late})
    assert daily_run(warehouse, raw, FIRST).reason == "no previous build"

    modes = {}
    day = FIRST
    while day < END:
        day += dt.timedelta(days=2 if day == FIRST + dt.timedelta(days=3) else 1)  # one two-day gap
        land(generated, raw, day)  # the held-back file lands late, with the first day after FIRST
        if day == FIRST + dt.timedelta(days=6):
            corrected = next((generated / "relanding" / "orders").iterdir())
            shutil.copyfile(corrected, raw / "orders" / corrected.name)  # a corrected file, re-landed
        if day == FIRST + dt.timedelta(days=7):
            with duckdb.connect(str(warehouse)) as conn:
                erased = conn.execute(f"SELECT min(customer_id) FROM {CUSTOMER_ORDERS}").fetchall()[0][0]
                erase_customers(conn, [erased])
        built = daily_run(warehouse, raw, day)
        modes[day] = (built.mode, built.reason)
        if built.mode == refresh.INCREMENTAL:  # a day's changes, not the whole base
            assert 0 < built.customers_recomputed < 100, built
        assert_same_as_full_build(warehouse)

    relanded_day = FIRST + dt.timedelta(days=6)
    assert modes.pop(relanded_day) == (
        refresh.FULL,
        "landed files were replaced since the previous build (re-landing)",
    ), "a re-landing removes rows: the next build must be full"
    assert {mode for mode, _ in modes.values()} == {refresh.INCREMENTAL}, modes


def test_products_changes_reach_their_buyers(generated: Path, tmp_path: Path) -> None:
    """A catalogue update changes the margin of every customer who bought the product."""
    raw, warehouse = tmp_path / "raw", tmp_path / "warehouse.duckdb"
    land(generated, raw, FIRST)
    daily_run(warehouse, raw, FIRST)
    with duckdb.connect(str(warehouse)) as conn:
        product = conn.execute(
            "SELECT product_id FROM staging.orders GROUP BY product_id ORDER BY count(*) DESC LIMIT 1"
        ).fetchall()[0][0]
    day = FIRST + dt.timedelta(days=1)
    land(generated, raw, day)
    update = pl.DataFrame(
        {"product_id": [product], "name": ["Repriced"], "category": ["garden"], "brand": ["Nouvelle"],
         "list_price": [100.0], "unit_cost": [99.0], "updated_at": [f"{day.isoformat()}T08:00:00"]}
    )  # fmt: skip
    update.write_csv(raw / "products" / f"products_{day.isoformat()}.csv")
    assert daily_run(warehouse, raw, day).mode == refresh.INCREMENTAL
    assert_same_as_full_build(warehouse)


def test_an_order_landed_before_its_day_counts_on_its_day(generated: Path, tmp_path: Path) -> None:
    """The contract lets a file hold events up to a day after its date (time zones): such an order
    is left out on the file's day and must come into view the next day, without being landed again."""
    raw, warehouse = tmp_path / "raw", tmp_path / "warehouse.duckdb"
    land(generated, raw, FIRST)
    with duckdb.connect(str(warehouse)) as conn:
        ensure_schemas(conn)
        for contract in SOURCES.values():
            load_source(conn, raw, contract, FIRST)
        customer, product = conn.execute(
            "SELECT customer_id, product_id FROM staging.orders ORDER BY ordered_at LIMIT 1"
        ).fetchall()[0]
    early = pl.DataFrame(
        {"order_id": ["EARLY-1"], "line_number": [1], "customer_id": [customer],
         "ordered_at": [f"{(FIRST + dt.timedelta(days=1)).isoformat()}T01:30:00Z"], "channel": ["online"],
         "product_id": [product], "quantity": [3], "unit_price": [40.0], "discount": [0.0],
         "status": ["completed"], "occasion": ["none"], "payment_days_late": [0]}
    )  # fmt: skip
    early.write_ndjson(raw / "orders" / f"orders_{FIRST.isoformat()}.jsonl")
    daily_run(warehouse, raw, FIRST)
    with duckdb.connect(str(warehouse)) as conn:
        assert conn.execute(
            f"SELECT count(*) FROM {CUSTOMER_ORDERS} WHERE order_id = 'EARLY-1'"
        ).fetchall() == [(0,)]
    assert daily_run(warehouse, raw, FIRST + dt.timedelta(days=1)).mode == refresh.INCREMENTAL
    with duckdb.connect(str(warehouse)) as conn:
        assert conn.execute(
            f"SELECT count(*) FROM {CUSTOMER_ORDERS} WHERE order_id = 'EARLY-1'"
        ).fetchall() == [(1,)]
    assert_same_as_full_build(warehouse)


def state(as_of: dt.date, **changes) -> refresh.BuildState:
    values = {
        "as_of_date": as_of,
        "loaded_through": dt.datetime(2026, 6, 1, 6),
        "cost_per_effort_point": 2.0,
        "present_sources": ("customers", "orders"),
        "code_fingerprint": "abc",
    }
    return refresh.BuildState(**{**values, **changes})


@pytest.mark.parametrize(
    ("previous", "current", "replaced", "force", "reason"),
    [
        (state(END), state(END), False, True, "full refresh requested (SEGMENTATION_FULL_REFRESH)"),
        (None, state(END), False, False, "no previous build"),
        (state(END), state(END, code_fingerprint="def"), False, False, "the feature code changed since the previous build"),
        (state(END), state(END - dt.timedelta(days=1)), False, False, "analysis date moved back (2026-06-30 -> 2026-06-29)"),
        (state(END), state(END, cost_per_effort_point=3.0), False, False, "cost per effort point changed"),
        (state(END), state(END, present_sources=("customers", "orders", "social")), False, False,
         "sources present changed (customers, orders -> customers, orders, social)"),
        (state(END), state(END), True, False, "landed files were replaced since the previous build (re-landing)"),
    ],
)  # fmt: skip
def test_a_full_build_when_the_previous_one_is_no_base(previous, current, replaced, force, reason) -> None:
    plan = refresh.plan_refresh(previous, current, replaced, force)
    assert (plan.mode, plan.reason) == (refresh.FULL, reason)


def test_incremental_otherwise() -> None:
    plan = refresh.plan_refresh(state(END - dt.timedelta(days=2)), state(END), replaced_since=False)
    assert (plan.mode, plan.reason) == (refresh.INCREMENTAL, "2 day(s) on from the build of 2026-06-28")
