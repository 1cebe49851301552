"""BG/NBD, Pareto/NBD and Gamma-Gamma: published CDNOW figures, hand checks, numerical properties.

The CDNOW figures come from Fader, Hardie & Lee (2005), "Counting your customers the easy way",
and Fader & Hardie's notes on the Pareto/NBD and Gamma-Gamma models, all fitted on the 2,357
customer CDNOW sample (calibration to 1997-09-30, same-day purchases merged, time in weeks).
The data is the vendored tests/data/CDNOW_sample.txt; lifetimes is never imported.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.integrate import quad
from scipy.special import betaln, gammaln

from segmentation_pipeline.models import btyd
from segmentation_pipeline.models.btyd import data as btyd_data
from segmentation_pipeline.models.btyd import estimation as btyd_fit
from segmentation_pipeline.models.btyd import likelihood as btyd_likelihood
from segmentation_pipeline.models.clv.purchases import aggregate_purchases, purchase_summary

CDNOW = Path(__file__).resolve().parents[1] / "data" / "CDNOW_sample.txt"
CALIBRATION_END = date(1997, 9, 30)

PUBLISHED = {
    btyd.BG_NBD: ({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, -9582.4),
    btyd.PARETO_NBD: ({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}, -9595.0),
}
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def cdnow_order_days() -> pl.DataFrame:
    """Whitespace-separated columns: customer id, ?, date YYYYMMDD, number of CDs, dollar value."""
    rows = [line.split() for line in CDNOW.read_text().splitlines() if line.strip()]
    return pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "order_date": [r[2] for r in rows],
            "revenue": [float(r[4]) for r in rows],
        }
    ).with_columns(pl.col("order_date").str.to_date("%Y%m%d"), margin=pl.col("revenue"))


@pytest.fixture(scope="module")
def cdnow() -> pl.DataFrame:
    return purchase_summary(
        aggregate_purchases(cdnow_order_days(), CALIBRATION_END, CALIBRATION_END), CALIBRATION_END, "cal", 7.0
    )


@pytest.fixture(scope="module")
def cdnow_data(cdnow: pl.DataFrame) -> btyd.RfmData:
    return btyd.RfmData.build(*(cdnow[c].to_numpy() for c in ("x", "t_x", "T")))


# --------------------------------------------------------------------------------------------
# Published CDNOW figures
# --------------------------------------------------------------------------------------------


def test_cdnow_sample_shape(cdnow: pl.DataFrame) -> None:
    assert cdnow.height == 2357
    assert int((cdnow["x"] > 0).sum()) == 946


@pytest.mark.parametrize("model", [btyd.BG_NBD, btyd.PARETO_NBD])
def test_cdnow_fit_matches_published(cdnow_data: btyd.RfmData, model: str) -> None:
    fitter = btyd.fit_bgnbd if model == btyd.BG_NBD else btyd.fit_pareto_nbd
    fit = fitter(cdnow_data)
    published, published_ll = PUBLISHED[model]
    assert fit.converged, fit.message
    assert fit.n_customers == 2357
    for name, value in published.items():
        assert fit.params[name] == pytest.approx(value, rel=0.01), name
    assert fit.log_likelihood == pytest.approx(published_ll, abs=0.5)


@pytest.mark.parametrize("model", [btyd.BG_NBD, btyd.PARETO_NBD])
def test_cdnow_likelihood_at_published_params(cdnow_data: btyd.RfmData, model: str) -> None:
    # Independent of the optimiser: the published parameters give the published log-likelihood.
    published, published_ll = PUBLISHED[model]
    assert btyd.log_likelihood(model, published, cdnow_data).sum() == pytest.approx(published_ll, abs=0.5)


def test_cdnow_gamma_gamma_matches_published(cdnow: pl.DataFrame) -> None:
    repeat = cdnow.filter(pl.col("x") > 0)
    fit = btyd.fit_gamma_gamma(repeat["x"].to_numpy(), repeat["mean_repeat_revenue"].to_numpy())
    assert fit.converged, fit.message
    assert fit.n_customers == 946
    for name, value in PUBLISHED_GG.items():
        assert fit.params[name] == pytest.approx(value, rel=0.01), name


def test_cdnow_conditional_expectation(cdnow_data: btyd.RfmData) -> None:
    # FHL 2005: a customer with x = 2, t_x = 30.43, T = 38.86 makes 1.226 purchases in 39 weeks.
    for fit in (btyd.fit_bgnbd(cdnow_data), btyd.FitResult.given(btyd.BG_NBD, PUBLISHED[btyd.BG_NBD][0])):
        assert btyd.expected_purchases(fit, 39.0, 2, 30.43, 38.86)[0] == pytest.approx(1.226, abs=5e-4)


# --------------------------------------------------------------------------------------------
# Hand checks against the raw formulas
# --------------------------------------------------------------------------------------------

BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PARETO_A_GT_B = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 2.5}
PARETO_A_LT_B = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 40.0}


def bgnbd_likelihood_raw(p: dict, x: int, t_x: float, T: float) -> float:
    """FHL 2005 eq. 6, computed directly (fine for small x)."""
    r, alpha, a, b = p["r"], p["alpha"], p["a"], p["b"]
    common = math.exp(math.lgamma(r + x) - math.lgamma(r)) * alpha**r
    first = math.exp(betaln(a, b + x) - betaln(a, b)) * common / (alpha + T) ** (r + x)
    second = 0.0
    if x > 0:
        second = math.exp(betaln(a + 1, b + x - 1) - betaln(a, b)) * common / (alpha + t_x) ** (r + x)
    return first + second


def pareto_log_likelihood_quad(p: dict, x: int, t_x: float, T: float) -> float:
    """The Pareto/NBD log-likelihood from its defining integral over the dropout time u:
    G(r+x) alpha^r beta^s / G(r) [(alpha+T)^-(r+x) (beta+T)^-s + int_t_x^T s (alpha+u)^-(r+x) (beta+u)^-(s+1) du],
    with the integrand scaled by its value at t_x so heavy buyers do not underflow."""
    r, alpha, s, beta = p["r"], p["alpha"], p["s"], p["beta"]

    def log_density(u: float) -> float:
        return math.log(s) - (r + x) * math.log(alpha + u) - (s + 1) * math.log(beta + u)

    log_const = math.lgamma(r + x) - math.lgamma(r) + r * math.log(alpha) + s * math.log(beta)
    log_alive = -(r + x) * math.log(alpha + T) - s * math.log(beta + T)
    # The integrand decays at rate ~ (r+x)/(alpha+u): past 60 such scales it is below e^-60.
    end = min(T, t_x + 60.0 / ((r + x) / (alpha + t_x) + (s + 1) / (beta + t_x)))
    scaled, _ = quad(lambda u: math.exp(log_density(u) - log_density(t_x)), t_x, end, epsabs=0, epsrel=1e-13)
    log_dead = log_density(t_x) + math.log(scaled) if scaled > 0 else -math.inf
    return log_const + float(np.logaddexp(log_alive, log_dead))


@pytest.mark.parametrize("x, t_x, T", [(0, 0.0, 38.86), (1, 5.0, 20.0), (2, 30.43, 38.86), (7, 12.0, 52.0)])
def test_bgnbd_likelihood_raw_formula(x: int, t_x: float, T: float) -> None:
    ll = btyd.log_likelihood(btyd.BG_NBD, BG, x, t_x, T)[0]
    assert ll == pytest.approx(math.log(bgnbd_likelihood_raw(BG, x, t_x, T)), rel=1e-10)


def test_bgnbd_no_repeat_is_gamma_poisson_zero() -> None:
    # x = 0: L = (alpha / (alpha + T))^r, whatever a and b.
    ll = btyd.log_likelihood(btyd.BG_NBD, BG, 0, 0.0, 10.0)[0]
    assert ll == pytest.approx(BG["r"] * math.log(BG["alpha"] / (BG["alpha"] + 10.0)), rel=1e-12)


@pytest.mark.parametrize("params", [PARETO_A_GT_B, PARETO_A_LT_B, {**PARETO_A_GT_B, "beta": 10.578}])
@pytest.mark.parametrize("x, t_x, T", [(0, 0.0, 38.86), (1, 5.0, 20.0), (2, 30.43, 38.86), (12, 3.0, 70.0)])
def test_pareto_likelihood_matches_integral(params: dict, x: int, t_x: float, T: float) -> None:
    # Covers both hypergeometric branches (alpha > beta, alpha < beta) and alpha = beta.
    ll = btyd.log_likelihood(btyd.PARETO_NBD, params, x, t_x, T)[0]
    assert ll == pytest.approx(pareto_log_likelihood_quad(params, x, t_x, T), rel=1e-9)


@pytest.mark.parametrize(
    "params, x, t_x, T",
    [
        ({"r": 0.5, "alpha": 100.0, "s": 0.6, "beta": 1.0}, 300, 1.0, 2.0),
        ({"r": 0.5, "alpha": 1.0, "s": 0.6, "beta": 200.0}, 300, 2.0, 5.0),
        ({"r": 2.0, "alpha": 500.0, "s": 3.0, "beta": 0.5}, 800, 3.0, 3.5),
    ],
)
def test_pareto_likelihood_where_scipy_hyp2f1_fails(params: dict, x: int, t_x: float, T: float) -> None:
    # Heavy buyers with a hypergeometric argument near 1: SciPy's hyp2f1 returns NaN here and the
    # quadrature fallback takes over.
    ll = btyd.log_likelihood(btyd.PARETO_NBD, params, x, t_x, T)[0]
    assert ll == pytest.approx(pareto_log_likelihood_quad(params, x, t_x, T), rel=1e-9)


def test_quadrature_fallback_agrees_with_hyp2f1_where_both_work() -> None:
    rng = np.random.default_rng(5)
    for _ in range(200):
        r, s, alpha, beta = np.exp(rng.uniform(-2, 3, 4))
        x, t = np.array([float(rng.integers(0, 60))]), np.array([rng.uniform(0, 100)])
        direct = btyd_likelihood._pnbd_log_f(r, alpha, s, beta, x, t)
        assert btyd_likelihood._pnbd_log_f_quadrature(r, alpha, s, beta, x, t) == pytest.approx(
            direct, rel=1e-10, abs=1e-12
        )


def test_gamma_gamma_likelihood_raw_formula() -> None:
    # The fit's reported log-likelihood is the raw formula summed at its parameters, and no
    # nearby parameters do better (it is the maximum).
    def raw(p: float, q: float, g: float, x: np.ndarray, m: np.ndarray) -> float:
        return float(
            (
                gammaln(p * x + q) - gammaln(p * x) - gammaln(q)
                + q * np.log(g) + (p * x - 1) * np.log(m) + p * x * np.log(x) - (p * x + q) * np.log(g + x * m)
            ).sum()
        )  # fmt: skip

    rng = np.random.default_rng(3)
    x = rng.integers(1, 8, 400).astype(float)
    m = rng.gamma(6.25, 1.0, 400) * rng.gamma(3.74, 1 / 15.44, 400) ** -1 / 10
    fit = btyd.fit_gamma_gamma(x, m)
    p, q, g = fit.params.values()
    assert fit.converged and fit.n_customers == 400
    assert fit.log_likelihood == pytest.approx(raw(p, q, g, x, m), rel=1e-12)
    for step in (0.97, 1.03):
        assert raw(p * step, q, g, x, m) < fit.log_likelihood
        assert raw(p, q * step, g, x, m) < fit.log_likelihood
        assert raw(p, q, g * step, x, m) < fit.log_likelihood


def test_gamma_gamma_expected_value() -> None:
    fit = btyd.FitResult.given(btyd.GAMMA_GAMMA, PUBLISHED_GG)
    p, q, g = PUBLISHED_GG.values()
    expected = btyd.gamma_gamma_expected_value(fit, [0, 1, 10_000], [np.nan, 30.0, 30.0])
    assert expected[0] == pytest.approx(p * g / (q - 1))  # no repeat purchase: population mean
    assert expected[1] == pytest.approx(p * (g + 30.0) / (p + q - 1))
    assert expected[2] == pytest.approx(30.0, rel=1e-3)  # many purchases: the customer's own mean


# --------------------------------------------------------------------------------------------
# Behaviour
# --------------------------------------------------------------------------------------------

FITS = [btyd.FitResult.given(btyd.BG_NBD, BG), btyd.FitResult.given(btyd.PARETO_NBD, PARETO_A_GT_B)]


def test_bgnbd_p_alive_is_one_without_repeat_purchases() -> None:
    assert np.all(btyd.p_alive(FITS[0], [0, 0, 0], [0, 0, 0], [0.0, 10.0, 2000.0]) == 1.0)


@pytest.mark.parametrize("fit", FITS, ids=lambda f: f.model)
def test_monotonic_behaviour(fit: btyd.FitResult) -> None:
    T = np.linspace(10, 200, 20)
    # Longer silence since the last purchase -> less likely alive.
    assert np.all(np.diff(btyd.p_alive(fit, np.full(20, 3), np.full(20, 8.0), T)) < 0)
    # A more recent last purchase -> more likely alive, more expected purchases.
    t_x = np.linspace(1, 50, 20)
    assert np.all(np.diff(btyd.p_alive(fit, np.full(20, 3), t_x, np.full(20, 50.0))) > 0)
    # Longer horizons -> more expected purchases.
    horizons = np.linspace(1, 104, 30)
    assert np.all(np.diff(btyd.expected_purchases(fit, horizons, 3, 40.0, 50.0)) > 0)
    # Same recency and age, more purchases -> more expected purchases.
    assert np.all(np.diff(btyd.expected_purchases(fit, 52.0, np.arange(1, 30), np.full(29, 45.0), 50.0)) > 0)


@pytest.mark.parametrize("fit", FITS, ids=lambda f: f.model)
def test_heavy_buyers_and_long_histories_stay_finite(fit: btyd.FitResult) -> None:
    x = np.array([500, 500, 5000, 500, 0, 1])
    t_x = np.array([10.0, 2000.0, 1999.0, 1.0, 0.0, 2000.0])
    T = np.array([2000.0, 2000.0, 2000.0, 5000.0, 10_000.0, 2000.0])
    ll = btyd.log_likelihood(fit.model, fit.params, x, t_x, T)
    alive, expected = btyd.predict_purchases(fit, [4.0, 52.0], x, t_x, T)
    assert np.all(np.isfinite(ll)) and np.all(np.isfinite(alive)) and np.all(np.isfinite(expected))
    assert np.all((alive >= 0) & (alive <= 1)) and np.all(expected >= 0)
    # Last seen at the end of the history: alive unless (BG/NBD) they dropped out right after
    # that purchase, with chance a / (a + b + x - 1).
    if fit.model == btyd.BG_NBD:
        a, b = fit.params["a"], fit.params["b"]
        assert alive[1] == pytest.approx((b + 499) / (a + b + 499), rel=1e-12)
    else:
        assert alive[1] == 1.0
    assert alive[0] < 1e-6  # ... and one silent for 1990 weeks after 500 purchases is not.


@given(
    model=st.sampled_from([btyd.BG_NBD, btyd.PARETO_NBD]),
    log_params=st.lists(st.floats(-4.0, 4.0), min_size=4, max_size=4),
    x=st.integers(0, 10_000),
    recency=st.floats(0.0, 1.0),
    T=st.floats(0.0, 5000.0),
    t=st.floats(0.1, 500.0),
)
def test_property_finite_and_bounded(model, log_params, x, recency, T, t) -> None:
    params = dict(zip(btyd.PARAM_NAMES[model], np.exp(log_params), strict=True))
    t_x = 0.0 if x == 0 else recency * T
    fit = btyd.FitResult.given(model, params)
    ll = btyd.log_likelihood(model, params, x, t_x, T)
    alive, expected = btyd.predict_purchases(fit, [t, 2 * t], x, t_x, T)
    assert np.isfinite(ll).all()
    if x == 0:  # then a probability; otherwise a density in t_x
        assert ll[0] <= 1e-12
    assert 0.0 <= alive[0] <= 1.0
    assert np.isfinite(expected).all() and 0.0 <= expected[0, 0] <= expected[1, 0] * (1 + 1e-9) + 1e-12


# --------------------------------------------------------------------------------------------
# Fitting mechanics
# --------------------------------------------------------------------------------------------


def test_unique_rows_matches_numpy() -> None:
    rng = np.random.default_rng(3)
    cols = [rng.integers(0, 4, 500).astype(float), rng.integers(0, 6, 500) / 7, rng.integers(0, 3, 500) * 1.5]
    distinct, inverse, counts = btyd.unique_rows(*cols)
    rows = np.column_stack(distinct)
    np.testing.assert_array_equal(rows[inverse], np.column_stack(cols))  # the inverse rebuilds the input
    expected, expected_counts = np.unique(np.column_stack(cols), axis=0, return_counts=True)
    order = np.lexsort(rows.T[::-1])  # same rows and counts as np.unique, in first-seen order
    np.testing.assert_array_equal(rows[order], expected)
    np.testing.assert_array_equal(counts[order], expected_counts)


def test_weighted_distinct_rows_fit_like_raw_rows(cdnow: pl.DataFrame) -> None:
    x, t_x, T = (cdnow[c].to_numpy() for c in ("x", "t_x", "T"))
    (xd, txd, Td), _, counts = btyd.unique_rows(x.astype(float), t_x, T)
    raw, weighted = btyd.fit_bgnbd(x, t_x, T), btyd.fit_bgnbd(xd, txd, Td, weights=counts)
    assert weighted.n_customers == raw.n_customers == 2357
    for name in raw.params:
        assert weighted.params[name] == pytest.approx(raw.params[name], rel=1e-6)


def test_time_unit_only_rescales_alpha(cdnow: pl.DataFrame) -> None:
    x, t_x, T = (cdnow[c].to_numpy() for c in ("x", "t_x", "T"))
    weeks, days = btyd.fit_bgnbd(x, t_x, T), btyd.fit_bgnbd(x, t_x * 7, T * 7)
    assert days.params["alpha"] == pytest.approx(7 * weeks.params["alpha"], rel=1e-3)
    for name in ("r", "a", "b"):
        assert days.params[name] == pytest.approx(weeks.params[name], rel=1e-3)


@pytest.mark.parametrize("fitter", [btyd.fit_bgnbd, btyd.fit_pareto_nbd])
def test_degenerate_fit_is_reported_and_refused(fitter) -> None:
    # Nobody ever comes back: the purchase rate heads to zero, the optimiser to a bound.
    T = np.random.default_rng(0).uniform(1, 50, 300)
    fit = fitter(np.zeros(300), np.zeros(300), T)
    assert not fit.converged and fit.message
    with pytest.raises(btyd.FitError):
        btyd.p_alive(fit, [1], [1.0], [2.0])
    with pytest.raises(btyd.FitError):
        fit.require_converged()


def test_simulated_parameters_are_recovered() -> None:
    # Pareto/NBD data simulated with known parameters are fitted back within sampling error.
    rng = np.random.default_rng(7)
    n, r, alpha, s, beta = 20_000, 0.8, 6.0, 0.7, 15.0
    T = rng.uniform(10, 80, n)
    lam = rng.gamma(r, 1 / alpha, n)
    death = rng.exponential(1 / rng.gamma(s, 1 / beta, n))
    active = np.minimum(death, T)
    x = rng.poisson(lam * active)
    # The last of x uniform purchase times in (0, active) is active * U^(1/x).
    t_x = np.where(x > 0, active * rng.random(n) ** (1 / np.maximum(x, 1)), 0.0)
    fit = btyd.fit_pareto_nbd(x, t_x, T)
    assert fit.converged, fit.message
    for name, value in {"r": r, "alpha": alpha, "s": s, "beta": beta}.items():
        assert fit.params[name] == pytest.approx(value, rel=0.25), name


# --------------------------------------------------------------------------------------------
# Pareto/NBD integral on the (x, t) grid
# --------------------------------------------------------------------------------------------

# Near-homogeneous dropout, as fitted on the pipeline's million customers: SciPy's hyp2f1 takes
# ~25 us per point there and fails on half of them, which made the stage take 84 s.
PARETO_LARGE_S = {"r": 1.82, "alpha": 20.8, "s": 1550.0, "beta": 463_000.0}


def day_grid_data(n: int = 3000, x_max: int = 300, seed: int = 11) -> btyd.RfmData:
    """Customers over two years on purchase days (t in whole days, in weeks), a few heavy buyers."""
    rng = np.random.default_rng(seed)
    T = rng.integers(0, 731, n) / 7.0
    x = np.minimum(rng.negative_binomial(1, 0.2, n), x_max).astype(float)
    x[:5] = x_max
    t_x = np.where(x > 0, np.floor(rng.random(n) * T * 7.0) / 7.0, 0.0)
    return btyd.RfmData.build(x, t_x, T)


@pytest.mark.parametrize(
    "params",
    [
        PARETO_LARGE_S,
        PUBLISHED[btyd.PARETO_NBD][0],
        PARETO_A_GT_B,
        PARETO_A_LT_B,
        {"r": 0.2, "alpha": 0.05, "s": 0.5, "beta": 0.02},  # small scales: pieces graded near t = 0
    ],
)
def test_grid_integral_matches_pair_by_pair(params: dict) -> None:
    d = day_grid_data()
    p = btyd_data._param_vector(btyd.PARETO_NBD, params)
    grid = btyd_likelihood._pnbd_log_integral_grid(p, d, grad=True)
    assert grid is not None
    log_i, g = grid
    exact = btyd_likelihood._pnbd_log_integral_pairs(p, d, grad=False)[0]
    np.testing.assert_allclose(log_i, exact, rtol=1e-12, atol=1e-12)
    # The analytic gradient against central differences of the grid values.
    h = 1e-6
    for i in range(4):
        up, down = p.copy(), p.copy()
        up[i] *= np.exp(h)
        down[i] *= np.exp(-h)
        numeric = (
            btyd_likelihood._pnbd_log_integral_grid(up, d, False)[0]
            - btyd_likelihood._pnbd_log_integral_grid(down, d, False)[0]
        ) / (2 * h)
        np.testing.assert_allclose(g[i], numeric, rtol=1e-6, atol=1e-7 * (1.0 + np.abs(log_i).max()))


def test_grid_is_used_on_day_granularity_data() -> None:
    # Two years of purchase days, heavy buyers, the fitted large-s regime: the grid must apply
    # (the pair-by-pair fallback is what took 84 s on the pipeline's data).
    d = day_grid_data(n=20_000)
    assert len(d.t_values) > 700
    assert (
        btyd_likelihood._pnbd_log_integral_grid(
            btyd_data._param_vector(btyd.PARETO_NBD, PARETO_LARGE_S), d, True
        )
        is not None
    )


def test_grid_declines_when_too_large_and_pairs_take_over() -> None:
    rng = np.random.default_rng(2)
    n = 4000
    T = rng.uniform(0, 500, n)  # continuous times: every t distinct
    x = rng.integers(0, 3000, n).astype(float)
    t_x = np.where(x > 0, rng.random(n) * T, 0.0)
    d = btyd.RfmData.build(x, t_x, T)
    p = btyd_data._param_vector(btyd.PARETO_NBD, PARETO_A_GT_B)
    assert btyd_likelihood._pnbd_log_integral_grid(p, d, grad=False) is None
    log_i, _ = btyd_likelihood._pnbd_log_integral(p, d, grad=False)
    np.testing.assert_array_equal(log_i, btyd_likelihood._pnbd_log_integral_pairs(p, d, grad=False)[0])


def test_rfm_data_t_grid() -> None:
    d = day_grid_data(n=500)
    assert np.all(np.diff(d.t_values) > 0)
    np.testing.assert_array_equal(d.t_values[d.pair_ti], d.pair_t)
    np.testing.assert_array_equal(d.x_values[d.pair_xi], d.pair_x)


@pytest.mark.parametrize("spread", [5.0, 3000.0])  # the scaled cumulative sum, then the doubling
def test_suffix_mean_matches_direct_sum(spread: float) -> None:
    rng = np.random.default_rng(4)
    log_j = -np.sort(rng.uniform(0, spread, (3, 40)), axis=1) + rng.normal(0, 1, (3, 40))
    log_c = np.logaddexp.accumulate(log_j[:, ::-1], axis=1)[:, ::-1]
    values = rng.normal(0, 5, (2, 3, 40))
    direct = np.zeros_like(values)
    for i in range(40):
        direct[..., i] = (np.exp(log_j[:, i:] - log_c[:, i : i + 1]) * values[..., i:]).sum(axis=-1)
    np.testing.assert_allclose(
        btyd_likelihood._suffix_mean(log_j, log_c, values), direct, rtol=1e-10, atol=1e-12
    )


def test_pareto_objective_gradient_in_large_s_regime() -> None:
    # End to end through the row-level chain rule: the objective's gradient against differences.
    d = day_grid_data(n=5000)
    objective = btyd_fit._rfm_objective(btyd.PARETO_NBD, d)
    u = np.log(btyd_data._param_vector(btyd.PARETO_NBD, PARETO_LARGE_S))
    _, grad = objective(u)
    h = 1e-6
    for i in range(4):
        step = np.zeros(4)
        step[i] = h
        numeric = (objective(u + step)[0] - objective(u - step)[0]) / (2 * h)
        assert grad[i] == pytest.approx(numeric, rel=1e-5, abs=1e-8)


def test_no_dropout_data_gives_usable_fits_that_say_they_found_no_dropout() -> None:
    # Purchases from a pure NBD process (nobody ever leaves): the dropout parameters head to their
    # no-dropout limit; the purchase predictions stay usable, and the fit says what it found.
    rng = np.random.default_rng(1)
    n = 5_000
    # Times in weeks of whole days, as the pipeline's summaries are: customers then share (x, t_x, T)
    # rows, which the fits compress (continuous times made this test 15 s instead of 1 s).
    days = 7.0
    T = np.round(rng.uniform(20, 80, n) * days) / days
    x = rng.poisson(rng.gamma(0.8, 1 / 4.0, n) * T)
    t_x = np.where(x > 0, np.round(T * rng.random(n) ** (1 / np.maximum(x, 1)) * days) / days, 0.0)
    data = btyd.RfmData.build(x, t_x, T)
    for fitter in (btyd.fit_bgnbd, btyd.fit_pareto_nbd):
        fit = fitter(data)
        assert fit.converged, fit.message
        assert btyd.expected_dropout_share(fit, data) < 0.01
        assert np.all(np.isfinite(btyd.expected_purchases(fit, 52.0, data)))
    # Data with real dropout (the CDNOW-like simulation above) is not mistaken for none.
    death = rng.exponential(1 / rng.gamma(0.7, 1 / 15.0, n))
    active = np.minimum(death, T)
    x2 = rng.poisson(rng.gamma(0.8, 1 / 6.0, n) * active)
    t2 = np.where(x2 > 0, np.round(active * rng.random(n) ** (1 / np.maximum(x2, 1)) * days) / days, 0.0)
    churned = btyd.RfmData.build(x2, t2, T)
    assert btyd.expected_dropout_share(btyd.fit_pareto_nbd(churned), churned) > 0.1
