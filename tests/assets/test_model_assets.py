"""The models assets (RFM scores, customer classes, CLV, behavioural segments) on hand-written rows.

Three buyers and a prospect whose scores and classes can be worked out on paper, then the forty
buyers in two plainly different groups of the shared shop (tests/assets/conftest.py) for the
segmentation's split.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from segmentation_pipeline.defs.clv import clv_models
from segmentation_pipeline.defs.features import customer_feature_tables
from segmentation_pipeline.defs.models import customer_scores
from segmentation_pipeline.defs.segments import customer_segments
from tests.assets.rows import PRODUCT, materialize, order_line, stage
from tests.conftest import failure_messages

MODEL_ASSETS = [customer_feature_tables, customer_scores, clv_models, customer_segments]


def customer(customer_id: str, signup: dt.date = dt.date(2024, 1, 1)) -> dict:
    return {"customer_id": customer_id, "signup_date": signup, "updated_at": dt.datetime(2024, 1, 1)}


@pytest.fixture(scope="module")
def three_buyers(tmp_path_factory):
    """As of 2025-06-30 (no unit cost known: M is revenue):
    c1: 3 orders (10, 20, 30) on 03-01, 05-01, 06-20, paid on time;
    c2: 1 order (50) on 04-01, paid 40 days late;
    c3: 2 orders (5, 5) on 01-01, 02-01, no payment on record;
    p1: signed up, never ordered."""
    data_dir = tmp_path_factory.mktemp("three_buyers")
    database = data_dir / "warehouse.duckdb"
    stage(database, "products", [PRODUCT])
    stage(database, "customers", [customer("c1"), customer("c2"), customer("c3"), customer("p1")])
    stage(database, "orders", [
        order_line("o1", "c1", dt.date(2025, 3, 1), "P1", 10.0),
        order_line("o2", "c1", dt.date(2025, 5, 1), "P1", 20.0),
        order_line("o3", "c1", dt.date(2025, 6, 20), "P1", 30.0),
        order_line("o4", "c2", dt.date(2025, 4, 1), "P1", 50.0, payment_days_late=40),
        order_line("o5", "c3", dt.date(2025, 1, 1), "P1", 5.0, payment_days_late=None),
        order_line("o6", "c3", dt.date(2025, 2, 1), "P1", 5.0, payment_days_late=None),
    ])  # fmt: skip
    result = materialize(MODEL_ASSETS, data_dir)
    assert result.success, failure_messages(result)
    with duckdb.connect(str(database), read_only=True) as conn:
        yield result, conn


def rows(conn, sql: str) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in conn.execute(sql).fetchall()}


def test_rfm_scores_and_segments_are_the_hand_computed_ones(three_buyers):
    _, conn = three_buyers
    # score = floor(5 x buyers strictly worse / 3) + 1: worst 1, middle 2, best 4.
    # R: c1 10 days, c2 90, c3 149; F: c1 3, c3 2, c2 1; M: c1 60, c2 50, c3 10.
    # FM = (F + M + 1) // 2: c1 4, c2 2, c3 2 -> Champions (R4), Hibernating (R2), Lost (R1).
    assert rows(
        conn, "SELECT customer_id, r_score, f_score, m_score, rfm_segment FROM models.rfm_scores"
    ) == {
        "c1": (4, 4, 4, "Champions"),
        "c2": (2, 1, 2, "Hibernating"),
        "c3": (1, 2, 1, "Lost"),
        "p1": (None, None, None, "Prospect"),
    }
    assert rows(conn, "SELECT customer_id, recency_days, frequency, monetary FROM features.customer_features") == {
        "c1": (10, 3, 60.0), "c2": (90, 1, 50.0), "c3": (149, 2, 10.0), "p1": (None, 0, 0.0),
    }  # fmt: skip


def test_customer_classes_follow_the_payment_history_and_purchase_days(three_buyers):
    _, conn = three_buyers
    assert rows(
        conn,
        "SELECT customer_id, lifecycle_stage, risk_class, volume_class, loyalty_class FROM models.customer_classes",
    ) == {
        # 3 purchase days over 121 days, signed up 546 days ago: loyal; always on time: low risk;
        # 60 >= the 80th percentile of (10, 50, 60) = 56: high volume.
        "c1": ("loyal", "low", "high", "high"),
        # one purchase day: new; 40 days late on average (>= 30): high risk.
        "c2": ("new", "high", "low", "low"),
        # 2 purchase days, first 180 days ago: regular; no payment on record: unknown, not low.
        "c3": ("regular", "unknown", "low", "low"),
        "p1": ("prospect", "unknown", "low", "low"),
    }


def test_too_little_history_gives_no_clv_and_says_so(three_buyers):
    result, conn = three_buyers
    # Refused rather than fitted on three customers: no prediction at all, not made-up numbers.
    assert conn.execute("SELECT count(*) FROM models.clv_predictions").fetchall() == [(0,)]
    [materialization] = [
        m
        for m in result.get_asset_materialization_events()
        if m.asset_key.path == ["models", "clv_predictions"]
    ]
    metadata = materialization.event_specific_data.materialization.metadata
    assert metadata["chosen_model"].value == "none (CLV not computed)"
    assert any(w.startswith("CLV not computed") for w in metadata["warnings"].value)


def test_fewer_buyers_than_needed_to_split_form_one_segment_and_prospects_segment_0(three_buyers):
    _, conn = three_buyers
    segments = rows(conn, "SELECT customer_id, segment_id FROM models.customer_segments")
    assert segments["p1"] == (0,)
    assert segments["c1"] == segments["c2"] == segments["c3"] != (0,)


def test_two_plainly_different_groups_of_buyers_land_in_different_segments(shop_dir):
    """20 weekly store buyers of ~200 and 20 one-off online buyers of ~15 a year ago (stage_two_groups)."""
    with duckdb.connect(str(shop_dir / "warehouse.duckdb"), read_only=True) as conn:
        by_group = conn.execute(
            "SELECT regexp_extract(customer_id, '^[a-z]+'), list(DISTINCT segment_id) "
            "FROM models.customer_segments GROUP BY 1 ORDER BY 1"
        ).fetchall()
    [(_, oneoff), (_, prospect), (_, weekly)] = by_group
    assert prospect == [0]
    assert len(oneoff) == len(weekly) == 1 and oneoff != weekly and 0 not in oneoff + weekly
