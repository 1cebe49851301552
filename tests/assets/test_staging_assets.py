"""Staging assets through Dagster: materialisation metadata and the blocking rejected-share check."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from segmentation_pipeline.defs.quality import data_quality
from segmentation_pipeline.defs.resources import PipelineSettings
from segmentation_pipeline.defs.staging import REJECTED_SHARE_CHECK, staging_assets
from segmentation_pipeline.settings import Settings
from tests.conftest import ORDER_HEADER, write_landing

GOOD = "o{n},1,c1,2025-01-01T10:00:00,online,p1,1,10.0,0,completed,none,0"
BAD = "o{n},1,c1,2025-01-01T10:00:00,online,p1,0,10.0,0,completed,none,0"  # quantity 0


def resources(data_dir: Path, threshold: float = 0.05) -> dict:
    return {
        "settings": PipelineSettings.from_settings(
            Settings(data_dir=data_dir, as_of="2025-01-31", reject_threshold=threshold, settle_seconds=0)
        ),
        "warehouse": DuckDBResource(database=str(data_dir / "warehouse.duckdb")),
    }


def land_orders(data_dir: Path, good: int, bad: int) -> None:
    lines = [GOOD.format(n=n) for n in range(good)] + [BAD.format(n=good + n) for n in range(bad)]
    write_landing(data_dir / "raw", "orders", "2025-01-01", "\n".join([ORDER_HEADER, *lines]) + "\n")


def check_result(result: dg.ExecuteInProcessResult, source: str) -> dg.AssetCheckEvaluation:
    [evaluation] = [
        e for e in result.get_asset_check_evaluations() if e.asset_key == dg.AssetKey(["staging", source])
    ]
    return evaluation


def test_a_clean_load_passes_reports_row_counts_and_needs_no_optional_source(tmp_path):
    land_orders(tmp_path, good=20, bad=1)  # 4.8% rejected: under the 5% default
    result = dg.materialize([*staging_assets, data_quality], resources=resources(tmp_path))
    assert result.success
    evaluation = check_result(result, "orders")
    assert evaluation.passed and evaluation.check_name == REJECTED_SHARE_CHECK
    [materialization] = result.asset_materializations_for_node("staging__orders")
    assert materialization.metadata["dagster/row_count"].value == 20
    assert materialization.metadata["rows_quarantined"].value == 1
    conn = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    assert conn.execute(
        "SELECT rows_received, rows_loaded, rows_quarantined FROM marts.data_quality"
    ).fetchall() == [(21, 20, 1)]
    # Only orders landed: the optional sources' staging tables exist, empty.
    assert conn.execute("SELECT count(*) FROM staging.surveys").fetchall() == [(0,)]


def test_too_many_rejected_rows_fail_the_run_with_a_clear_message(tmp_path):
    land_orders(tmp_path, good=8, bad=2)  # 20% rejected
    result = dg.materialize(
        [*staging_assets, data_quality], resources=resources(tmp_path), raise_on_error=False
    )
    assert not result.success
    evaluation = check_result(result, "orders")
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert "orders: 2 of 10 rows rejected this run (20.00%, threshold 5%)" in evaluation.description
    assert "orders/orders_2025-01-01.csv: 2/10 rows rejected (20.0%)" in evaluation.description
    assert "quantity: greater_than_or_equal_to(1) ×2" in evaluation.description
    # The downstream mart did not run on the failed data.
    assert not result.asset_materializations_for_node("marts__data_quality")
