"""The table contracts: consumers agree with producers, no personal data, DDL and checks that bite."""

import importlib.util
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from segmentation_pipeline.contracts import PERSONAL_COLUMNS
from segmentation_pipeline.contracts.frames import polars_schema
from segmentation_pipeline.contracts.tables import (
    CONSUMERS,
    CUSTOMER_ORDERS,
    CUSTOMER_PROFILE,
    GUARANTEED,
    LANDING_FILES,
    STATE_TABLES,
    WRITTEN_TABLES,
    Consumer,
    quarantine_contract,
)
from segmentation_pipeline.warehouse.tables import (
    contract_violations,
    ensure_schemas,
    ensure_table,
    write_table,
)


def nullability_mismatches(consumer: Consumer) -> list[str]:
    """Columns the consumer reads that its producer does not declare, or declares nullable while
    the consumer refuses nulls."""
    declared = {c.name: c for c in consumer.table.columns}
    problems = [
        f"{consumer.name} reads {name}: not in {consumer.table.table}"
        for name in consumer.accepts_null
        if name not in declared
    ]
    problems += [
        f"{consumer.name} refuses nulls in {consumer.table.table}.{name}, which the contract declares nullable"
        for name, accepts in consumer.accepts_null.items()
        if name in declared and declared[name].nullable and not accepts
    ]
    return problems


@pytest.mark.parametrize("consumer", CONSUMERS, ids=lambda c: c.name)
def test_every_consumer_accepts_what_its_producer_may_write(consumer):
    assert nullability_mismatches(consumer) == []


def test_a_consumer_refusing_a_nullable_column_is_caught():
    # The bug a real export found: customer_orders.margin is null when a cost is unknown.
    strict_clv = Consumer("clv_models", CUSTOMER_ORDERS, {"customer_id": False, "margin": False})
    assert nullability_mismatches(strict_clv) == [
        "clv_models refuses nulls in features.customer_orders.margin, which the contract declares nullable"
    ]


def test_no_written_table_holds_personal_data():
    assert set(PERSONAL_COLUMNS) == {"email", "full_name", "comment", "handle"}
    for contract in WRITTEN_TABLES.values():
        assert not set(contract.names) & set(PERSONAL_COLUMNS), contract.table


def test_guaranteed_columns_are_the_spec_outputs():
    assert set(GUARANTEED) == {
        "customer_profile", "segments", "segment_claims", "service_queue", "rfm_segments", "segment_history",
        "segment_migrations", "clv_model_params", "data_quality",
    }  # fmt: skip
    # The profile's SPEC columns lead the table, in the SPEC's order.
    assert CUSTOMER_PROFILE.names[: len(GUARANTEED["customer_profile"])] == GUARANTEED["customer_profile"]


def test_the_profile_repeats_every_feature_column():
    features = WRITTEN_TABLES["features.customer_features"]
    assert [c for c in CUSTOMER_PROFILE.columns if c.name in features.names and not c.guaranteed] == [
        c for c in features.columns if c.name not in GUARANTEED["customer_profile"]
    ]


def test_repeated_columns_keep_the_upstream_description():
    features = WRITTEN_TABLES["features.customer_features"]
    assert CUSTOMER_PROFILE.column("tenure_days") == features.column("tenure_days")
    # A left join makes the CLV columns nullable in the profile, and only that changes.
    clv = WRITTEN_TABLES["models.clv_predictions"].column("clv_12m")
    assert not clv.nullable and CUSTOMER_PROFILE.column("clv_12m").nullable
    assert CUSTOMER_PROFILE.column("clv_12m").description == clv.description


@pytest.fixture
def conn(tmp_path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ensure_schemas(connection)
    yield connection
    connection.close()


@pytest.mark.parametrize("table", list(WRITTEN_TABLES))
def test_ddl_makes_an_empty_table_that_meets_its_contract(conn, table):
    contract = WRITTEN_TABLES[table]
    conn.execute(contract.ddl())
    assert contract_violations(conn, contract) == []
    # The Polars schema of the contract writes back to the same types.
    write_table(conn, contract, pl.DataFrame(schema=polars_schema(contract)))
    assert contract_violations(conn, contract) == []


@pytest.mark.parametrize("table", [*STATE_TABLES, "quarantine.orders"])
def test_state_and_quarantine_tables_come_from_their_contracts(conn, table):
    contract = STATE_TABLES.get(table) or quarantine_contract("orders")
    ensure_table(conn, contract)
    ensure_table(conn, contract)  # again: nothing changes
    assert contract_violations(conn, contract) == []
    assert not set(contract.names) & set(PERSONAL_COLUMNS)


def test_a_warehouse_created_before_gains_the_columns_added_later(conn):
    first_release = LANDING_FILES.ddl().split(', "inode"')[0] + ")"
    conn.execute(first_release)
    conn.execute(
        "INSERT INTO ops.landing_files (source, file, status, rows_loaded, rows_quarantined, loaded_at) "
        "VALUES ('orders', 'orders/orders_2025-01-01.csv', 'loaded', 1, 0, now()::TIMESTAMP)"
    )
    ensure_table(conn, LANDING_FILES)
    assert contract_violations(conn, LANDING_FILES) == []
    assert conn.execute("SELECT inode, rows_expected FROM ops.landing_files").fetchall() == [(None, 0)]


def test_a_write_that_breaks_the_contract_fails_and_keeps_the_previous_table(conn):
    orders = pl.DataFrame(
        {"customer_id": ["c1"], "order_id": ["o1"], "ordered_at": [None], "order_date": [None], "channel": ["web"],
         "revenue": [10.0], "margin": [None], "gross": [10.0], "discount": [0.0], "is_occasion": [None], "n_lines": [1]},
        schema=polars_schema(CUSTOMER_ORDERS),
    )  # fmt: skip
    good = orders.with_columns(ordered_at=pl.datetime(2025, 1, 1), order_date=pl.date(2025, 1, 1))
    write_table(conn, CUSTOMER_ORDERS, good)
    with pytest.raises(duckdb.ConstraintException, match="order_date"):
        conn.execute("BEGIN TRANSACTION")
        try:
            write_table(conn, CUSTOMER_ORDERS, orders.with_columns(ordered_at=pl.datetime(2025, 1, 1)))
        finally:
            conn.execute("ROLLBACK")
    assert conn.execute("SELECT count(*) FROM features.customer_orders").fetchall() == [(1,)]
    with pytest.raises(duckdb.BinderException, match="surprise"):
        write_table(conn, CUSTOMER_ORDERS, good.with_columns(surprise=pl.lit(1)))


def test_the_check_names_every_departure_from_the_contract(conn):
    conn.execute(
        "CREATE TABLE features.customer_orders AS SELECT 'c1' AS customer_id, 1 AS order_id, NULL::DATE AS order_date, 2 AS extra"
    )
    problems = contract_violations(conn, CUSTOMER_ORDERS)
    assert "ordered_at: missing" in problems
    assert "extra: not in the contract" in problems
    assert "order_id: INTEGER, the contract says VARCHAR" in problems
    assert "order_date: 1 nulls, the contract says NOT NULL" in problems
    assert contract_violations(conn, WRITTEN_TABLES["marts.segments"]) == ["marts.segments does not exist"]


def test_the_superset_dashboard_reads_the_guaranteed_columns_from_the_contracts():
    path = Path(__file__).resolve().parents[2] / "bi" / "superset" / "dashboard.py"
    spec = importlib.util.spec_from_file_location("superset_dashboard_under_test", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    assert module.GUARANTEED_COLUMNS == GUARANTEED
