"""The CLV stage: purchase summaries, tiers, model choice, gates, margin handling, discounting."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from segmentation_pipeline.models import btyd
from segmentation_pipeline.models.clv.fits import PARAMS_SCHEMA
from segmentation_pipeline.models.clv.predictions import TIERS, CLVConfig, StoredFit, clv_tiers, compute_clv
from segmentation_pipeline.models.clv.purchases import _sorted_codes, aggregate_purchases, purchase_summary
from tests.unit.test_btyd import cdnow_order_days

START = date(2023, 1, 1)
AS_OF = START + timedelta(days=729)
FITTED_AT = datetime(2025, 1, 2, 6, 0)


def order_days(rows: list[tuple[str, date, float, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"customer_id": pl.String, "order_date": pl.Date, "revenue": pl.Float64, "margin": pl.Float64},
        orient="row",
    )


def summarize_purchases(
    order_days: pl.DataFrame,
    calibration_end: date,
    observation_end: date | None = None,
    time_unit_days: float = 7.0,
) -> pl.DataFrame:
    """The calibration summary compute_clv fits on, through the functions it calls."""
    agg = aggregate_purchases(order_days, calibration_end, observation_end or calibration_end)
    return purchase_summary(agg, calibration_end, "cal", time_unit_days, holdout=observation_end is not None)


def simulate(n: int = 4000, seed: int = 0) -> pl.DataFrame:
    """Pareto/NBD-style customers over two years; margins are 30% of revenue, with noise."""
    rng = np.random.default_rng(seed)
    first = rng.integers(0, 700, n)
    rate = rng.gamma(1.5, 0.04 / 1.5, n)  # purchases per day
    lifetime = rng.exponential(1 / rng.gamma(1.0, 1 / 500, n))
    active = np.minimum(lifetime, 730 - first)
    repeats = rng.poisson(rate * active)
    owner = np.concatenate([np.arange(n), np.repeat(np.arange(n), repeats)])
    day = np.concatenate([first, first[np.arange(n).repeat(repeats)]])
    day[n:] += np.floor(rng.random(len(owner) - n) * active[owner[n:]]).astype(int)
    revenue = rng.gamma(6.0, rng.gamma(4.0, 15.0, n)[owner] / 6.0)
    return pl.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in owner],
            "order_date": [START + timedelta(days=int(d)) for d in day],
            "revenue": revenue,
            "margin": revenue * rng.normal(0.3, 0.05, len(owner)),
        }
    )


@pytest.fixture(scope="module")
def orders() -> pl.DataFrame:
    return simulate()


@pytest.fixture(scope="module")
def result(orders: pl.DataFrame):
    return compute_clv(orders, AS_OF, CLVConfig(), fitted_at=FITTED_AT)


# --------------------------------------------------------------------------------------------
# summarize_purchases
# --------------------------------------------------------------------------------------------


def test_summary_counts_purchase_days_and_repeat_means() -> None:
    d0 = date(2024, 1, 1)
    frame = order_days(
        [
            ("A", d0, 10.0, 2.0),
            ("A", d0, 5.0, 1.0),  # same day: one purchase of 15
            ("A", d0 + timedelta(days=7), 20.0, 4.0),
            ("A", d0 + timedelta(days=14), 30.0, 6.0),
            ("A", d0 + timedelta(days=14), 10.0, 2.0),
            ("A", d0 + timedelta(days=40), 99.0, 9.0),  # holdout
            ("A", d0 + timedelta(days=41), 99.0, 9.0),  # holdout
            ("A", d0 + timedelta(days=400), 99.0, 9.0),  # after observation_end: ignored
            ("B", d0 + timedelta(days=3), 50.0, 5.0),
            ("C", d0 + timedelta(days=35), 50.0, 5.0),  # first purchase after calibration_end
        ]
    )
    cal_end, obs_end = d0 + timedelta(days=28), d0 + timedelta(days=90)
    summary = summarize_purchases(frame, cal_end, obs_end).sort("customer_id")
    assert summary.columns == [
        "customer_id", "x", "t_x", "T", "mean_repeat_margin", "mean_repeat_revenue", "x_holdout",
    ]  # fmt: skip
    a, b = summary.rows(named=True)
    assert summary["customer_id"].to_list() == ["A", "B"]
    assert (a["x"], a["t_x"], a["T"], a["x_holdout"]) == (2, 2.0, 4.0, 2)
    assert a["mean_repeat_revenue"] == pytest.approx((20 + 40) / 2)
    assert a["mean_repeat_margin"] == pytest.approx((4 + 8) / 2)
    assert (b["x"], b["t_x"], b["x_holdout"]) == (0, 0.0, 0) and b["T"] == pytest.approx(25 / 7)
    assert b["mean_repeat_revenue"] is None and b["mean_repeat_margin"] is None

    in_days = summarize_purchases(frame, cal_end, time_unit_days=1.0).sort("customer_id")
    assert "x_holdout" not in in_days.columns
    assert in_days.row(0, named=True)["T"] == 28.0


@pytest.mark.parametrize(
    "ids",
    [
        pl.Series(["b", "a", "C10", "C9", "b", "é", "", "a", "zz", "C10"]),
        pl.Series([5, -3, 5, 12, 0, -3]),
    ],
)
def test_sorted_codes_are_a_dense_rank(ids: pl.Series) -> None:
    expected = ids.rank("dense").to_numpy().astype(np.int64) - 1
    np.testing.assert_array_equal(_sorted_codes(ids), expected)


def test_summary_rejects_bad_input() -> None:
    frame = order_days([("A", date(2024, 1, 1), 1.0, 1.0)])
    with pytest.raises(ValueError, match="margin"):
        summarize_purchases(frame.drop("margin"), date(2024, 2, 1))
    with pytest.raises(ValueError, match="nulls"):
        summarize_purchases(frame.with_columns(revenue=None), date(2024, 2, 1))


def test_summary_cdnow_published_example() -> None:
    frame = cdnow_order_days()
    summary = summarize_purchases(frame, date(1997, 9, 30), date(1998, 6, 30))
    assert summary.height == 2357
    # Customer 00004 is FHL's worked example: x = 2, t_x = 30.43, T = 38.86.
    c4 = summary.filter(pl.col("customer_id") == "00004").row(0, named=True)
    assert (c4["x"], round(c4["t_x"], 2), round(c4["T"], 2), c4["x_holdout"]) == (2, 30.43, 38.86, 1)
    assert c4["mean_repeat_revenue"] == pytest.approx((29.73 + 14.96) / 2)


# --------------------------------------------------------------------------------------------
# Tiers
# --------------------------------------------------------------------------------------------


def test_tiers_by_rank() -> None:
    tiers = clv_tiers(np.random.default_rng(1).permutation(1000).astype(float))
    counts = dict(tiers.value_counts().iter_rows())
    assert counts == {"top 1%": 10, "1-5%": 40, "5-10%": 50, "10-25%": 150, "25-50%": 250, "bottom 50%": 500}


def test_tiers_ties_nulls_and_small_populations() -> None:
    # Ties go to the lower tier; nulls and NaN get no tier; 3 customers cannot have a top 1%.
    assert clv_tiers([5.0, 5.0, None, float("nan"), 1.0]).to_list() == [
        "bottom 50%",
        "bottom 50%",
        None,
        None,
        "bottom 50%",
    ]
    assert clv_tiers([3.0, 2.0, 1.0]).to_list() == ["25-50%", "bottom 50%", "bottom 50%"]
    assert set(clv_tiers(np.arange(200.0)).unique().to_list()) == set(TIERS)


# --------------------------------------------------------------------------------------------
# compute_clv
# --------------------------------------------------------------------------------------------


def test_predictions_frame(result, orders: pl.DataFrame) -> None:
    p = result.predictions
    assert p.columns == [
        "customer_id", "p_alive", "p_alive_basis", "expected_orders_3m", "expected_orders_12m", "expected_order_value",
        "expected_margin_per_order", "margin_rate", "clv_12m", "clv_tier",
    ]  # fmt: skip
    assert p.height == orders["customer_id"].n_unique() and p["customer_id"].is_unique().all()
    assert p.null_count().sum_horizontal().item() == 0
    assert p["p_alive"].is_between(0, 1).all()
    assert (p["expected_orders_12m"] >= p["expected_orders_3m"]).all() and (
        p["expected_orders_3m"] >= 0
    ).all()
    assert set(p["clv_tier"].unique()) == set(TIERS)
    assert result.warnings == []
    # Sorted by customer id: the seeded model-choice sample depends on this order.
    assert p["customer_id"].is_sorted()


def test_model_choice_and_holdout_report(result) -> None:
    assert set(result.holdout) == {btyd.BG_NBD, btyd.PARETO_NBD}
    best = min(result.holdout, key=lambda m: result.holdout[m]["mae"])
    assert result.chosen_model == best
    for metrics in result.holdout.values():
        assert {"predicted_total", "actual_total", "mae", "rmse", "n_customers", "log_likelihood"} <= set(
            metrics
        )
        assert metrics["predicted_total"] == pytest.approx(metrics["actual_total"], rel=0.15)
        assert metrics["rmse"] >= metrics["mae"] > 0
    # The predictions come from a refit of the chosen model on the full history.
    assert result.fits[best].converged
    assert result.fits[best].n_customers > result.fits[f"{best}_calibration"].n_customers


def test_params_frame(result) -> None:
    params = result.params
    assert dict(params.schema) == PARAMS_SCHEMA
    assert set(params["model"]) == {
        "bg_nbd_calibration",
        "pareto_nbd_calibration",
        result.chosen_model,
        "gamma_gamma",
    }
    assert params.filter(pl.col("model") == "gamma_gamma")["parameter"].to_list() == ["p", "q", "gamma"]
    assert (params["time_unit"] == "week").all() and (params["fitted_at"] == FITTED_AT).all()
    assert params["value"].is_finite().all() and (params["value"] > 0).all()


def test_clv_is_discounted_margin_stream(orders: pl.DataFrame, result) -> None:
    undiscounted = compute_clv(orders, AS_OF, CLVConfig(annual_discount_rate=0.0)).predictions
    expected = undiscounted["expected_orders_12m"] * undiscounted["expected_margin_per_order"]
    np.testing.assert_allclose(undiscounted["clv_12m"].to_numpy(), expected.to_numpy(), rtol=1e-9)
    # Monthly discounting at 10% a year: between a full year's and one month's discount.
    ratio = (result.predictions["clv_12m"] / undiscounted["clv_12m"]).to_numpy()
    assert np.all((ratio > 1.1**-1) & (ratio < 1.1 ** (-1 / 12)))


def test_expected_order_value_is_margin_over_margin_rate(result) -> None:
    p = result.predictions.filter(pl.col("margin_rate") > 0)
    np.testing.assert_allclose(
        p["expected_order_value"].to_numpy(), (p["expected_margin_per_order"] / p["margin_rate"]).to_numpy()
    )


def test_loss_making_customers_keep_their_own_margin(orders: pl.DataFrame) -> None:
    d = AS_OF - timedelta(days=200)
    losses = order_days(
        [
            ("LOSS", d, 50.0, -5.0),
            ("LOSS", d + timedelta(days=30), 40.0, -8.0),
            ("LOSS", d + timedelta(days=60), 60.0, -4.0),
        ]
    )
    p = compute_clv(pl.concat([orders, losses]), AS_OF).predictions
    row = p.filter(pl.col("customer_id") == "LOSS").row(0, named=True)
    assert row["expected_margin_per_order"] == pytest.approx((-8.0 - 4.0) / 2)  # observed mean repeat margin
    assert row["clv_12m"] < 0 and row["clv_tier"] == "bottom 50%"
    assert row["expected_order_value"] == pytest.approx(150.0 / 3)  # margin rate < 0: observed revenue/day


def test_orders_after_as_of_are_ignored(orders: pl.DataFrame, result) -> None:
    future = order_days(
        [("C00001", AS_OF + timedelta(days=1), 500.0, 100.0), ("NEW", AS_OF + timedelta(days=3), 5.0, 1.0)]
    )
    later = compute_clv(pl.concat([orders, future]), AS_OF, fitted_at=FITTED_AT)
    assert later.predictions.equals(result.predictions)


def test_history_gate_gives_no_predictions(orders: pl.DataFrame) -> None:
    out = compute_clv(orders, START + timedelta(days=100))
    assert out.predictions.height == 0 and out.predictions.columns[0] == "customer_id"
    assert out.chosen_model is None and "min_history_days" in out.warnings[0]


def test_repeat_buyer_gate_gives_no_predictions(orders: pl.DataFrame) -> None:
    out = compute_clv(orders, AS_OF, CLVConfig(min_repeat_buyers=10**6))
    assert out.predictions.height == 0 and "min_repeat_buyers" in out.warnings[0]
    assert out.params.height == 0


def _failing(fitter):
    def fake(*args, **kwargs):
        fit = fitter(*args, **kwargs)
        return dataclasses.replace(fit, converged=False, message="forced failure")

    return fake


def test_unconverged_model_is_never_used(orders: pl.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(btyd, "fit_pareto_nbd", _failing(btyd.fit_pareto_nbd))
    out = compute_clv(orders, AS_OF)
    assert out.chosen_model == btyd.BG_NBD and set(out.holdout) == {btyd.BG_NBD}
    assert any("pareto_nbd calibration fit rejected: forced failure" in w for w in out.warnings)
    assert "pareto_nbd_calibration" not in set(out.params["model"])

    monkeypatch.setattr(btyd, "fit_bgnbd", _failing(btyd.fit_bgnbd))
    out = compute_clv(orders, AS_OF)
    assert out.predictions.height == 0 and out.chosen_model is None
    assert "no purchase model converged" in out.warnings[-1]


def test_failed_refit_falls_back_to_runner_up(
    orders: pl.DataFrame, result, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = result.chosen_model
    name = "fit_bgnbd" if chosen == btyd.BG_NBD else "fit_pareto_nbd"
    real, calls = getattr(btyd, name), []

    def fail_on_refit(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs) if len(calls) == 1 else _failing(real)(*args, **kwargs)

    monkeypatch.setattr(btyd, name, fail_on_refit)
    out = compute_clv(orders, AS_OF)
    assert out.chosen_model != chosen and out.predictions.height == result.predictions.height
    assert any(f"{chosen} refit on the full history rejected" in w for w in out.warnings)


def test_cdnow_end_to_end_calibration_matches_published() -> None:
    frame = cdnow_order_days()
    # 1998-06-30 minus 273 days is the published calibration end, 1997-09-30.
    out = compute_clv(frame, date(1998, 6, 30), CLVConfig(holdout_days=273))
    params = {(m, p): v for m, p, v in out.params.select("model", "parameter", "value").iter_rows()}
    assert params[("bg_nbd_calibration", "r")] == pytest.approx(0.243, rel=0.01)
    assert params[("bg_nbd_calibration", "b")] == pytest.approx(2.426, rel=0.01)
    assert params[("pareto_nbd_calibration", "s")] == pytest.approx(0.606, rel=0.01)
    assert params[("pareto_nbd_calibration", "beta")] == pytest.approx(11.669, rel=0.01)
    assert out.predictions.height == 2357
    for metrics in out.holdout.values():
        # 1,882 actual repeat purchase days in the 39 holdout weeks; both models predict ~1,660
        # (BG/NBD 1,653.4, as lifetimes' BetaGeoFitter does with the same parameters).
        assert metrics["n_customers"] == 2357 and metrics["actual_total"] == 1882
        assert metrics["predicted_total"] == pytest.approx(1660, rel=0.01)


def test_unusable_gamma_gamma_keeps_purchases_but_no_money(orders: pl.DataFrame) -> None:
    # Every order loses money: Gamma-Gamma has no positive means to fit.
    out = compute_clv(orders.with_columns(margin=-pl.col("revenue")), AS_OF)
    p = out.predictions
    assert p.height == orders["customer_id"].n_unique() and p["p_alive"].null_count() == 0
    for column in ("expected_order_value", "expected_margin_per_order", "clv_12m", "clv_tier"):
        assert p[column].null_count() == p.height, column
    assert any(w.startswith("Gamma-Gamma not fitted") for w in out.warnings)
    assert "gamma_gamma" not in set(out.params["model"])


def test_a_stored_fit_is_reused_within_the_cadence_and_predicts_like_the_fit(
    orders: pl.DataFrame, result
) -> None:
    stored = StoredFit(AS_OF, result.chosen_model, result.params, result.holdout)
    # Same day: the stored fit is the fit, so the predictions are the same, without fitting anything.
    same = compute_clv(orders, AS_OF, stored=stored)
    assert same.reused_from == AS_OF and same.params.equals(result.params) and same.holdout == result.holdout
    assert same.predictions.equals(result.predictions)
    # Three days on: every customer is predicted again from their own history (T moved by 3 days).
    later = AS_OF + timedelta(days=3)
    reused, refitted = compute_clv(orders, later, stored=stored), compute_clv(orders, later)
    assert reused.reused_from == AS_OF and refitted.reused_from is None
    assert reused.predictions["customer_id"].equals(refitted.predictions["customer_id"])
    assert not reused.predictions["p_alive"].equals(result.predictions["p_alive"])
    # A refit on 3 more days of (no) orders barely moves them: the reuse's whole premise.
    assert reused.predictions["clv_12m"].sum() == pytest.approx(
        refitted.predictions["clv_12m"].sum(), rel=0.02
    )


def test_a_stored_fit_is_not_reused_once_the_cadence_is_due_or_backwards(
    orders: pl.DataFrame, result
) -> None:
    stored = StoredFit(AS_OF, result.chosen_model, result.params, result.holdout)
    config = CLVConfig()
    due = compute_clv(orders, AS_OF + timedelta(days=config.refit_every_days), config, stored=stored)
    backwards = compute_clv(orders, AS_OF - timedelta(days=1), config, stored=stored)
    assert due.reused_from is None and backwards.reused_from is None
    incomplete = StoredFit(
        AS_OF, result.chosen_model, result.params.filter(pl.col("model") != "gamma_gamma"), result.holdout
    )
    assert compute_clv(orders, AS_OF, stored=incomplete).reused_from is None
