"""Segment economics: revenue, margin, CLV, cost to serve, ROI and service priority."""

from __future__ import annotations

import polars as pl
import pytest

from segmentation_pipeline.models.segment_economics import EconomicsConfig, segment_economics


def frame(**columns: list) -> pl.DataFrame:
    return pl.DataFrame(columns, strict=False)


def by_id(df: pl.DataFrame) -> dict[int, dict]:
    return {r["segment_id"]: r for r in df.iter_rows(named=True)}


def test_roi_maths_and_priority():
    profile = frame(
        segment_id=[1, 1, 2, 2, 3],
        monetary=[1000.0, 500.0, 300.0, 100.0, 50.0],
        margin=[400.0, 200.0, 60.0, 20.0, 10.0],
        cost_to_serve=[50.0, 50.0, 40.0, 40.0, 0.0],
        clv_12m=[300.0, None, 10.0, 20.0, None],
    )
    e = by_id(segment_economics(profile))
    # Segment 1: (600 - 100) / 100 = 5; segment 2: (80 - 80) / 80 = 0; segment 3: no cost -> null.
    assert e[1]["roi"] == pytest.approx(5.0)
    assert e[2]["roi"] == pytest.approx(0.0)
    assert e[3]["roi"] is None
    assert e[1]["revenue"] == 1500.0 and e[1]["margin"] == 600.0 and e[1]["cost_to_serve"] == 100.0
    assert e[1]["revenue_share"] == pytest.approx(1500 / 1950)
    assert e[1]["customer_share"] == pytest.approx(0.4)
    # CLV is null-safe: sums and averages what is there.
    assert e[1]["clv_12m_total"] == 300.0 and e[1]["avg_clv_12m"] == 300.0
    assert e[3]["clv_12m_total"] is None and e[3]["avg_clv_12m"] is None
    # priority = value per customer x ROI (ROI capped at 20, taken as the cap when nothing was spent):
    # 1: 300 x 5 = 1500; 3: 10 x 20 = 200; 2: 40 x 0 = 0.
    assert e[1]["priority_score"] == pytest.approx(1500.0)
    assert e[3]["priority_score"] == pytest.approx(200.0)
    assert [e[i]["service_priority"] for i in (1, 3, 2)] == [1, 2, 3]


def test_negative_roi_ranks_last_and_ties_break_on_segment_id():
    profile = frame(
        segment_id=[1, 2, 3],
        monetary=[100.0, 100.0, 100.0],
        margin=[10.0, 50.0, 50.0],
        cost_to_serve=[100.0, 10.0, 10.0],
    )
    e = by_id(segment_economics(profile))
    assert e[1]["roi"] == pytest.approx(-0.9)
    assert [e[i]["service_priority"] for i in (2, 3, 1)] == [1, 2, 3]


def test_clv_basis_and_fallback_when_clv_refused():
    profile = frame(
        segment_id=[1, 2], monetary=[100.0, 100.0], margin=[20.0, 20.0], cost_to_serve=[10.0, 10.0]
    )
    with_clv = profile.with_columns(pl.Series("clv_12m", [110.0, 30.0]))
    e = by_id(segment_economics(with_clv, EconomicsConfig(roi_basis="clv")))
    assert e[1]["roi_basis"] == "clv_12m" and e[1]["roi"] == pytest.approx(10.0)
    assert e[2]["roi"] == pytest.approx(2.0)
    # The CLV gate refused: every clv_12m is null (or the column is absent) -> margin basis.
    refused = profile.with_columns(pl.lit(None, dtype=pl.Float64).alias("clv_12m"))
    for df in (refused, profile):
        e = by_id(segment_economics(df, EconomicsConfig(roi_basis="clv")))
        assert e[1]["roi_basis"] == "margin" and e[1]["roi"] == pytest.approx(1.0)
        assert e[1]["clv_12m_total"] is None


def test_cost_from_effort_when_cost_to_serve_missing():
    profile = frame(segment_id=[1, 1], monetary=[100.0, 0.0], margin=[60.0, 0.0], total_effort=[4.0, None])
    e = by_id(segment_economics(profile, EconomicsConfig(cost_per_effort_point=5.0)))
    assert e[1]["cost_to_serve"] == 20.0 and e[1]["roi"] == pytest.approx(2.0)


def test_all_null_inputs_do_not_crash():
    profile = frame(segment_id=[0, 0], monetary=[None, None], margin=[None, None], cost_to_serve=[None, None])
    e = by_id(segment_economics(profile))
    assert e[0]["revenue"] == 0.0 and e[0]["roi"] is None and e[0]["service_priority"] == 1
    assert e[0]["revenue_share"] == 0.0
