"""Assets smoke test: the steps after the features run on empty tables typed by their contracts.

An empty but well-typed input (a new shop, a day with no customers yet) must give empty, typed
outputs that meet their contracts, not a crash. One run of every step after the features; each test
reads its part of it.
"""

from __future__ import annotations

import html
import re

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from segmentation_pipeline.contracts import SOURCES
from segmentation_pipeline.contracts.tables import (
    CUSTOMER_FEATURES,
    CUSTOMER_ORDERS,
    CUSTOMER_PROFILE,
    SEGMENTS,
)
from segmentation_pipeline.definitions import ASSET_MODULES, resources
from segmentation_pipeline.defs import features, staging
from segmentation_pipeline.defs.metadata import CONTRACT_CHECK
from segmentation_pipeline.settings import Settings
from segmentation_pipeline.staging.tables import ensure_source_tables
from segmentation_pipeline.warehouse.tables import create_table, ensure_schemas


def empty_warehouse(tmp_path):
    """A warehouse whose staging tables and feature tables exist, typed, without a row."""
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as conn:
        ensure_schemas(conn)
        for source in SOURCES.values():
            ensure_source_tables(conn, source)
        create_table(conn, CUSTOMER_ORDERS)
        create_table(conn, CUSTOMER_FEATURES)
    return database


@pytest.fixture(scope="module")
def zero_customers(tmp_path_factory):
    """One run of every `defs` module after the features (models, marts, quality, report,
    publication: assets and checks) on empty typed inputs: its result and data dir."""
    data_dir = tmp_path_factory.mktemp("zero_customers")
    database = empty_warehouse(data_dir)
    modules = [m for m in ASSET_MODULES if m not in (staging, features)]
    settings = Settings(data_dir=data_dir, as_of="2025-06-30", settle_seconds=0)
    result = dg.materialize(
        [*dg.load_assets_from_modules(modules), *dg.load_asset_checks_from_modules(modules)],
        resources=resources(settings, DuckDBResource(database=str(database))),
        raise_on_error=False,
    )
    return result, data_dir


def test_scores_and_clv_on_empty_typed_features(zero_customers):
    result, data_dir = zero_customers
    evaluations = [e for e in result.get_asset_check_evaluations() if e.check_name == CONTRACT_CHECK]
    passed = {e.asset_key.to_user_string(): e.passed for e in evaluations}
    tables = (
        "models/rfm_scores",
        "models/customer_classes",
        "models/clv_predictions",
        "marts/clv_model_params",
    )
    assert {t: passed.get(t) for t in tables} == dict.fromkeys(tables, True)
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as conn:
        for table in ("models.rfm_scores", "models.customer_classes", "models.clv_predictions"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchall() == [(0,)], table


def test_segments_and_segment_marts_on_zero_customers(zero_customers):
    result, data_dir = zero_customers
    evaluations = [e for e in result.get_asset_check_evaluations() if e.check_name == CONTRACT_CHECK]
    marts = {e.asset_key.path[1] for e in evaluations if e.asset_key.path[0] == "marts"}
    assert {"segments", "segment_claims", "segment_history", "segment_migrations"} <= marts and all(
        e.passed for e in evaluations
    ), [e.metadata for e in evaluations if not e.passed]
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as conn:
        for table in (
            "marts.segments",
            "marts.segment_claims",
            "marts.segment_history",
            "marts.segment_migrations",
        ):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchall() == [(0,)], table
        columns = conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'marts' AND table_name = 'segments' ORDER BY ordinal_position"
        ).fetchall()
    assert columns == [(c.name, c.type) for c in SEGMENTS.columns]  # typed as its contract says


def test_every_step_after_the_features_runs_on_zero_customers_through_publication(zero_customers):
    """Models, marts, quality, report and publication, each `defs` module's assets and checks, on
    empty typed inputs: every step succeeds, every check passes, and a BI tool finds every mart,
    empty and typed, in the snapshot."""
    result, tmp_path = zero_customers
    assert result.success, [str(e.event_specific_data.error) for e in result.get_step_failure_events()]
    failed = [(e.asset_key, e.check_name) for e in result.get_asset_check_evaluations() if not e.passed]
    assert failed == []
    with duckdb.connect(str(tmp_path / "marts.duckdb"), read_only=True) as snapshot:
        published = {
            name for (name,) in snapshot.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        published |= {
            name
            for (name,) in snapshot.execute(
                "SELECT view_name FROM duckdb_views() WHERE NOT internal"
            ).fetchall()
        }
        for name in ("customer_profile", "segments", "service_queue"):
            assert name in published, f"marts.{name} is not in the snapshot"
            assert snapshot.execute(f'SELECT count(*) FROM "{name}"').fetchone() == (0,), name
        # rfm_segments keeps a row per RFM segment (BI charts show every segment), none with a customer
        # (their share is null: 0 of 0 customers is no share)
        assert snapshot.execute(
            "SELECT count(*), sum(customers), count(share) FROM rfm_segments"
        ).fetchone() == (
            12,
            0,
            0,
        )
        assert "data_quality" in published  # the landing zone's files: none here
        profile_columns = [r[0] for r in snapshot.execute("DESCRIBE customer_profile").fetchall()]
    assert profile_columns == [c.name for c in CUSTOMER_PROFILE.columns]
    reports = [tmp_path / "reports" / f"persona_report_2025-06-30{suffix}.html" for suffix in ("", ".fr")]
    # The report is written in English and French, saying there is no customer yet, and why.
    for path, note in zip(reports, (
        "Money in EUR. No customer yet: with no counted order, neither the value basis (margin or revenue) "
        "nor P(alive) is known.",
        "Montants en EUR. Aucun client pour l'instant : sans commande comptée, ni la base de valeur (marge ou "
        "chiffre d'affaires) ni la P(alive) ne sont connues.",
    ), strict=True):  # fmt: skip
        [shown] = re.findall(r'<p class="note">(.*?)</p></header>', path.read_text(encoding="utf-8"))
        assert html.unescape(shown) == note, path.name
