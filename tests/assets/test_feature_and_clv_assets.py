"""The features → scores → CLV assets on a temporary DuckDB with hand-written staging rows.

The case a real export found: an order line whose product the catalogue does not know has no
unit cost, so its order's margin is null; every downstream step must accept that (the CLV stage
then values customers on revenue) and every table must still meet its contract.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np

from segmentation_pipeline.defs.clv import clv_models
from segmentation_pipeline.defs.features import customer_feature_tables
from segmentation_pipeline.defs.metadata import CONTRACT_CHECK
from segmentation_pipeline.defs.models import customer_scores
from tests.assets.rows import materialize, order_line, stage


def test_an_unknown_product_gives_a_null_margin_that_every_step_accepts(tmp_path):
    database = tmp_path / "warehouse.duckdb"
    stage(database, "products", [
        {"product_id": "P1", "category": "home", "brand": "Acme", "unit_cost": 4.0,
         "updated_at": dt.datetime(2024, 1, 1)},
    ])  # fmt: skip
    # Buy-till-you-die customers (Poisson purchases until an exponential dropout), enough of them
    # over enough history for the purchase and spend models to be fitted.
    rng = np.random.default_rng(7)
    lines = []
    for c in range(300):
        start, rate, life = rng.uniform(0, 150), rng.gamma(2.0, 0.02), rng.exponential(250)
        day, k = start, 0
        while day < min(start + life, 540):
            price = round(float(rng.lognormal(3.0 + 0.3 * (c % 4), 0.4)), 2)
            lines.append(
                order_line(
                    f"o{c}-{k}", f"c{c:03d}", dt.date(2024, 1, 1) + dt.timedelta(int(day)), "P1", price
                )
            )
            day, k = day + rng.exponential(1 / rate), k + 1
    lines.append(order_line("o-unknown", "c000", dt.date(2025, 6, 1), "PX", 25.0))  # not in the catalogue
    stage(database, "orders", lines)

    result = materialize([customer_feature_tables, customer_scores, clv_models], tmp_path)

    assert result.success
    checks = {e.asset_key.to_user_string(): e for e in result.get_asset_check_evaluations()}
    contract_checks = {k: e.passed for k, e in checks.items() if e.check_name == CONTRACT_CHECK}
    assert contract_checks == {
        "features/customer_orders": True, "features/customer_features": True, "models/rfm_scores": True,
        "models/customer_classes": True, "models/clv_predictions": True, "marts/clv_model_params": True,
    }  # fmt: skip
    with duckdb.connect(str(database), read_only=True) as conn:
        margin = conn.execute(
            "SELECT margin FROM features.customer_orders WHERE order_id = 'o-unknown'"
        ).fetchall()
        others = conn.execute(
            "SELECT count(*) FROM features.customer_orders WHERE margin IS NULL AND order_id <> 'o-unknown'"
        ).fetchall()
        bases = conn.execute("SELECT DISTINCT value_basis FROM marts.clv_model_params").fetchall()
        clv = conn.execute("SELECT count(*), count(clv_12m) FROM models.clv_predictions").fetchall()
    assert margin == [(None,)] and others == [(0,)]
    # One order without a cost: margin is not known for every order, so value is on revenue.
    assert bases == [("revenue",)]
    assert clv[0][0] == 300 and clv[0][1] == 300
