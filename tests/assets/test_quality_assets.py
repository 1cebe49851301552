"""The data-quality mart through the staging assets: row accounting per landing file."""

from __future__ import annotations

import duckdb

from segmentation_pipeline.defs.quality import data_quality
from segmentation_pipeline.defs.staging import REJECTED_SHARE_CHECK, staging_assets
from tests.assets.rows import materialize
from tests.conftest import ORDER_HEADER, failure_messages, write_landing

GOOD = "o{n},1,c1,2025-06-0{day}T10:00:00,online,p1,1,10.0,0,completed,none,0"


def test_each_file_accounts_for_every_row_it_brought(tmp_path):
    raw = tmp_path / "raw"
    write_landing(raw, "orders", "2025-06-01", "\n".join([
        ORDER_HEADER, GOOD.format(n=1, day=1), GOOD.format(n=2, day=1), GOOD.format(n=3, day=1),
        "o4,1,c2,2025-06-01T11:00:00,drone,p1,2,12.5,0,completed,none,0",  # no such channel
    ]) + "\n")  # fmt: skip
    write_landing(raw, "orders", "2025-06-02", f"{ORDER_HEADER}\n{GOOD.format(n=5, day=2)}\n")
    write_landing(raw, "service", "2025-06-02", "ticket_id,customer_id,opened_at,effort_score\nt1,c1,2025-06-02T09:00:00,3\n")  # fmt: skip

    # 1 rejected row in 5 this run: over the default 5% threshold, which fails the run
    # (test_staging_assets); a threshold of 50% lets it through (the threshold is configurable).
    result = materialize([*staging_assets, data_quality], tmp_path, reject_threshold=0.5)

    assert result.success, failure_messages(result)
    [orders_check] = [
        e for e in result.get_asset_check_evaluations() if e.asset_key.path == ["staging", "orders"]
    ]
    assert orders_check.check_name == REJECTED_SHARE_CHECK and orders_check.passed
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        accounting = conn.execute(
            """SELECT file, status, rows_received, rows_loaded, rows_quarantined, rejected_share,
                      quarantined_revenue FROM marts.data_quality ORDER BY file"""
        ).fetchall()
        staged = dict(conn.execute("SELECT _source_file, count(*) FROM staging.orders GROUP BY 1").fetchall())
        quarantined = conn.execute("SELECT _source_file, rule FROM quarantine.orders").fetchall()
    assert accounting == [
        # The bad line would have brought 2 x 12.5 = 25.0: what the quarantine costs in revenue.
        ("orders/orders_2025-06-01.csv", "partially_loaded", 4, 3, 1, 0.25, 25.0),
        ("orders/orders_2025-06-02.csv", "loaded", 1, 1, 0, 0.0, None),
        ("service/service_2025-06-02.csv", "loaded", 1, 1, 0, 0.0, None),
    ]
    # The mart's figures are the rows that are really in staging and quarantine.
    assert staged == {"orders/orders_2025-06-01.csv": 3, "orders/orders_2025-06-02.csv": 1}
    assert [(file, "channel" in rule) for file, rule in quarantined] == [
        ("orders/orders_2025-06-01.csv", True)
    ]
