"""Segment economics: one 12-month rule for value, cost to serve, ROI and service priority."""

from __future__ import annotations

import polars as pl
import pytest

from segmentation_pipeline.marts.economics.segment_economics import (
    EconomicsConfig,
    customer_economics,
    segment_economics,
)
from segmentation_pipeline.marts.personas.personas import PersonaConfig, Traits, service_action


def frame(**columns: list) -> pl.DataFrame:
    return pl.DataFrame(columns, strict=False)


def by_id(df: pl.DataFrame) -> dict[int, dict]:
    return {r["segment_id"]: r for r in df.iter_rows(named=True)}


def test_cost_is_tickets_per_year_times_mean_effort_times_cost_per_point():
    profile = frame(
        customer_id=["a", "b", "c", "d"],
        tenure_days=[730.0, 100.0, None, 365.25],
        service_contacts=[4, 2, 0, None],
        mean_effort_score=[5.0, 8.0, None, None],
        clv_12m=[50.0, 10.0, 30.0, 100.0],
    )
    e = {r["customer_id"]: r for r in customer_economics(profile, 2.0).iter_rows(named=True)}
    # a: 4 tickets over two years = 2 a year x effort 5 x 2 per point = 20 (< 50 of value).
    assert e["a"]["tickets_per_year"] == pytest.approx(4 * 365.25 / 730)
    assert e["a"]["expected_cost_to_serve_12m"] == pytest.approx(4 * 365.25 / 730 * 5 * 2)
    assert e["a"]["cost_exceeds_value_12m"] is False
    # b: 100 days of history is not multiplied up to a year: 2 tickets x 8 x 2 = 32 > 10.
    assert e["b"]["expected_cost_to_serve_12m"] == pytest.approx(32.0)
    assert e["b"]["cost_exceeds_value_12m"] is True
    # c: no ticket costs 0, not unknown; d: no service data is unknown, not 0.
    assert e["c"]["expected_cost_to_serve_12m"] == 0.0 and e["c"]["cost_exceeds_value_12m"] is False
    assert e["d"]["expected_cost_to_serve_12m"] is None and e["d"]["cost_exceeds_value_12m"] is None


def _profile(**overrides) -> pl.DataFrame:
    base = dict(
        customer_id=["a", "b", "c", "d", "e"],
        segment_id=[1, 1, 2, 2, 3],
        monetary=[1000.0, 500.0, 300.0, 100.0, 50.0],
        margin=[400.0, 200.0, 60.0, 20.0, 10.0],
        clv_12m=[300.0, 100.0, 40.0, 0.0, 90.0],
        tenure_days=[365.25] * 5,
        service_contacts=[1, 1, 2, 2, 0],
        mean_effort_score=[5.0, 5.0, 5.0, 5.0, None],
        total_effort=[5, 5, 10, 10, 0],
        cost_to_serve=[10.0, 10.0, 20.0, 20.0, 0.0],
    )
    return frame(**{**base, **overrides})


def test_roi_is_value_minus_cost_over_cost_on_one_12_month_horizon():
    e = by_id(segment_economics(_profile(), EconomicsConfig(cost_per_effort_point=2.0)))
    # Segment 1: V = 400 (Σ clv_12m), C = 2 tickets x 5 x 2 = 20: ROI (400 - 20) / 20 = 19.
    assert e[1]["clv_12m_total"] == 400.0 and e[1]["expected_cost_to_serve_12m"] == pytest.approx(20.0)
    assert e[1]["roi"] == pytest.approx(19.0)
    # Segment 2: V = 40, C = 4 x 5 x 2 = 40: ROI 0; customer d (value 0, cost 20) costs more than it brings.
    assert e[2]["roi"] == pytest.approx(0.0) and e[2]["customers_cost_exceeds_value"] == 1
    # Segment 3: no ticket -> cost 0 -> ROI undefined (null), no priority.
    assert e[3]["expected_cost_to_serve_12m"] == 0.0 and e[3]["roi"] is None
    assert e[3]["service_priority"] is None and e[3]["customers_cost_exceeds_value"] == 0
    # Names say what they hold: a total and a mean per ticket.
    assert e[2]["total_service_effort"] == 20 and e[2]["mean_effort_score"] == pytest.approx(5.0)
    assert e[1]["revenue"] == 1500.0 and e[1]["margin"] == 600.0 and e[1]["cost_to_serve"] == 20.0


def test_priority_is_the_roi_order_exactly_with_no_clipping():
    # ROI 106 must rank above ROI 25.7, whatever the value per customer (the example).
    profile = _profile(
        customer_id=["a", "b", "c"],
        segment_id=[1, 2, 3],
        clv_12m=[10_700.0, 26_700.0, 5.0],
        tenure_days=[365.25] * 3,
        service_contacts=[10, 100, 1],
        mean_effort_score=[5.0, 5.0, 5.0],
        monetary=[1.0] * 3,
        margin=[1.0] * 3,
        total_effort=[50, 500, 5],
        cost_to_serve=[100.0, 1000.0, 10.0],
    )
    e = by_id(segment_economics(profile, EconomicsConfig(cost_per_effort_point=2.0)))
    assert e[1]["roi"] == pytest.approx(106.0) and e[2]["roi"] == pytest.approx(25.7)
    assert e[3]["roi"] == pytest.approx(-0.5)
    assert [e[i]["service_priority"] for i in (1, 2, 3)] == [1, 2, 3]
    ranked = sorted(e.values(), key=lambda r: r["service_priority"])
    assert [r["roi"] for r in ranked] == sorted((r["roi"] for r in ranked), reverse=True)


def test_ties_break_on_lower_segment_id():
    profile = _profile(customer_id=["a", "b"], segment_id=[2, 1], clv_12m=[100.0, 100.0],
                       tenure_days=[400.0, 400.0], service_contacts=[1, 1], mean_effort_score=[5.0, 5.0],
                       monetary=[1.0, 1.0], margin=[1.0, 1.0], total_effort=[5, 5], cost_to_serve=[1.0, 1.0])  # fmt: skip
    e = by_id(segment_economics(profile))
    assert (e[1]["service_priority"], e[2]["service_priority"]) == (1, 2)


def test_without_service_data_cost_roi_and_priority_are_unknown():
    profile = _profile(service_contacts=[None] * 5, mean_effort_score=[None] * 5, total_effort=[None] * 5,
                       cost_to_serve=[None] * 5)  # fmt: skip
    for r in segment_economics(profile).iter_rows(named=True):
        assert r["expected_cost_to_serve_12m"] is None and r["cost_to_serve"] is None
        assert r["roi"] is None and r["service_priority"] is None
        assert r["customers_cost_exceeds_value"] is None


def test_without_clv_roi_is_unknown():
    e = by_id(segment_economics(_profile(clv_12m=[None] * 5)))
    assert all(r["roi"] is None and r["service_priority"] is None for r in e.values())


def test_all_null_inputs_do_not_crash():
    profile = frame(segment_id=[0, 0], monetary=[None, None], margin=[None, None], cost_to_serve=[None, None])
    e = by_id(segment_economics(profile))
    assert e[0]["revenue"] == 0.0 and e[0]["roi"] is None and e[0]["service_priority"] is None
    assert e[0]["revenue_share"] == 0.0
    with pytest.raises(ValueError):
        segment_economics(profile, EconomicsConfig(value_basis="profit"))


TRAITS = Traits(False, "online", True, "loyal", "shopper", None, None, False)
LEVELS = {"first in line": 3, "kept fast": 2, "after the higher": 1, "self-care first": 0}


def _level(action: str) -> int:
    return next(level for key, level in LEVELS.items() if key in action)


def test_service_actions_follow_the_priority_and_never_contradict_it():
    rois = [50.0, 20.0, 9.0, 4.0, 2.0, 0.5, -0.2, -0.8]
    profile = frame(
        customer_id=[str(i) for i in range(8)],
        segment_id=list(range(1, 9)),
        clv_12m=[(r + 1) * 10 for r in rois],
        tenure_days=[365.25] * 8,
        service_contacts=[1] * 8,
        mean_effort_score=[5.0] * 8,
        monetary=[1.0] * 8,
    )
    econ = segment_economics(profile, EconomicsConfig(cost_per_effort_point=2.0))
    rows = sorted(econ.iter_rows(named=True), key=lambda r: r["service_priority"])
    levels = [_level(service_action({**r, "ranked_segments": 8}, TRAITS)) for r in rows]
    assert levels == sorted(levels, reverse=True)  # never a better service for a lower priority
    assert levels[0] == 3 and levels[-1] == 0
    first = service_action({**rows[0], "ranked_segments": 8}, TRAITS)
    assert "priority 1 of 8" in first and "50.0\u00d7" in first
    unknown = Traits(False, "online", True, "loyal", "shopper", None, None, False, service_known=False)
    assert service_action({}, unknown).startswith("no service data")
    # Tickets but no CLV: the segment did file tickets, what is missing is the value.
    no_clv = {**rows[0], "roi": None, "service_priority": None}
    assert service_action(no_clv, TRAITS).startswith("no CLV this run")
    assert service_action({**no_clv, "service_tickets": 0.0}, TRAITS).startswith("no ticket")
    assert PersonaConfig().currency == "EUR"
