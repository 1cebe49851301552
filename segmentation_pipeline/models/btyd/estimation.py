"""Buy-till-you-die models for customer lifetime value: BG/NBD, Pareto/NBD and Gamma-Gamma.

Role: the statistical core of the CLV stage (`segmentation_pipeline.models.clv.predictions`): log-likelihoods,
maximum-likelihood fitting and conditional predictions, in NumPy/SciPy (Polars only to hash
distinct rows).

- BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way") and Pareto/NBD
  (Schmittlein, Morrison & Colombo 1987; likelihood as in Fader & Hardie 2005, "A note on deriving
  the Pareto/NBD model") model repeat purchases and P(alive) from each customer's (x, t_x, T):
  repeat purchases, time of the last purchase and age, both measured from the first purchase.
- Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV") models the mean value per repeat purchase.

Why the likelihoods are written here: `lifetimes` is archived and breaks on pandas 3;
`pymc-marketing` pulls in pymc + pytensor and spends seconds compiling before the first fit.
These closed-form likelihoods are a few dozen lines each.

Numerics: everything is in log space. Both purchase models have a likelihood of the form
L = (alive at T) + (dropped out after t_x), so log L = logaddexp(alive, dead) and
P(alive) = exp(alive - log L). Pareto/NBD's dropout term needs the integral
I(x, t) = integral_t^inf (alpha+u)^-(r+x) (beta+u)^-(s+1) du for every distinct (x, t): it is
integrated once over the sorted distinct t values with Gauss-Legendre nodes shared by all x (an
exp-sinh rule past the last t), in pieces scaled to the integrand so each is exact to ~1e-13,
and summed from the top in log space. Where that grid would be large (many distinct t, extreme
parameters), I comes pair by pair from a hypergeometric function in an Euler/Pfaff-transformed
form whose argument stays in [0, 1), with quadrature where SciPy's hyp2f1 returns inf/NaN (large
third parameter, argument near 1). BG/NBD's prediction uses the same kind of transformed 2F1,
falling back to the untransformed form / the plain series; anything still non-finite raises.

Speed: `RfmData` compresses customers to their DISTINCT (x, t_x, T) rows with counts as weights,
and every special function is evaluated once per distinct (x, t) pair, t in {t_x, T}, or per
distinct x; per row only gathers and a logaddexp remain. Parameters are optimised on the log
scale with L-BFGS-B and analytic gradients (Pareto/NBD's from the same quadrature nodes).
The grid matters on real data: customers who rarely churn push Pareto/NBD to s and beta in the
thousands, where SciPy's hyp2f1 is slow and fails on half of them: pair by pair the stage
took over a minute at a million customers, on the grid seconds (benchmarks/bench_clv.py, which
also compares lifetimes' BetaGeoFitter; figures: benchmarks/README.md, "Figures behind the code").

A fit that fails to converge or ends on a parameter bound is returned with `converged=False`;
prediction functions refuse it (FitError).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import digamma, gammaln
from threadpoolctl import threadpool_limits

from segmentation_pipeline.models.btyd.data import (
    _BOUND_TOL,
    _LOG_BOUND,
    BG_NBD,
    DROPOUT_PARAMS,
    GAMMA_GAMMA,
    PARAM_NAMES,
    PARETO_NBD,
    ArrayLike,
    FitResult,
    RfmData,
    _as_float,
    _data,
    _param_vector,
    unique_rows,
)
from segmentation_pipeline.models.btyd.likelihood import (
    _bgnbd_pair_grads,
    _bgnbd_pairs,
    _logaddexp,
    _pnbd_dead,
    _pnbd_pairs,
    _terms,
    _wsum,
)

# Above this many distinct rows a fit without a given start first converges on a ~20k-customer
# binomially thinned sample, then polishes on all rows (fewer full-data evaluations).
_WARM_START_ROWS = 50_000


# --------------------------------------------------------------------------------------------
# Compressed customer data
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Likelihood terms: log L = logaddexp(alive, dead) per distinct row
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Predictions
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Gamma-Gamma
# --------------------------------------------------------------------------------------------


@dataclass
class _Spend:
    x: np.ndarray
    m: np.ndarray
    log_m: np.ndarray
    xu: np.ndarray  # distinct x, row -> distinct x, customers per distinct x
    ix: np.ndarray
    n_x: np.ndarray

    @classmethod
    def build(cls, x: ArrayLike, mean_value: ArrayLike) -> _Spend:
        x, m = _as_float(x, mean_value)
        if len(x) != len(m) or len(x) == 0:
            raise ValueError("x and mean_value must be non-empty and of the same length")
        if not (np.isfinite(m).all() and (m > 0).all() and (x >= 1).all()):
            raise ValueError("Gamma-Gamma needs x >= 1 and finite mean values > 0")
        (xu,), ix, n_x = unique_rows(x)
        return cls(x, m, np.log(m), xu, ix, n_x.astype(np.float64))


def _gg_core(params: np.ndarray, d: _Spend, grad: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-customer log-likelihood of the mean value m over x repeat purchases (x >= 1, m > 0):
    G(px+q)/(G(px) G(q)) gamma^q m^(px-1) x^(px) / (gamma + x m)^(px+q).
    """
    p, q, gamma = params
    px = p * d.xu
    const_x = gammaln(px + q) - gammaln(px) - gammaln(q) + px * np.log(d.xu)
    log_gxm = np.log(gamma + d.x * d.m)
    ll = const_x[d.ix] + q * np.log(gamma) + (p * d.x - 1.0) * d.log_m - (p * d.x + q) * log_gxm
    if not grad:
        return ll, None
    n = len(d.x)
    d_p = d.n_x @ (d.xu * (digamma(px + q) - digamma(px) + np.log(d.xu))) + _wsum(d.x, d.log_m - log_gxm)
    d_q = d.n_x @ (digamma(px + q) - digamma(q)) + n * np.log(gamma) - log_gxm.sum()
    d_gamma = n * q / gamma - ((p * d.x + q) / (gamma + d.x * d.m)).sum()
    return ll, np.array([d_p, d_q, d_gamma])


# --------------------------------------------------------------------------------------------
# Fitting
# --------------------------------------------------------------------------------------------


def _minimize(objective: Callable, start: np.ndarray):
    """L-BFGS-B on log-parameters; `objective` returns (mean negative log-likelihood, gradient).

    A line-search failure ("ABNORMAL") gets one restart from where it stopped, which drops the
    stale curvature memory; if it still fails, the fit is reported as not converged.
    """
    options = {"maxiter": 500, "ftol": 1e-12, "gtol": 1e-6}
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(start)
    x0 = np.clip(np.log(start), -_LOG_BOUND + 1.0, _LOG_BOUND - 1.0)
    # L-BFGS-B calls BLAS on tiny problems; OpenBLAS threads cost more than the work on a busy
    # machine, so BLAS is pinned to one thread. Non-finite trial points are penalised by the
    # objective, so their floating-point warnings are noise.
    with threadpool_limits(limits=1, user_api="blas"), np.errstate(all="ignore"):
        res = minimize(objective, x0, jac=True, method="L-BFGS-B", bounds=bounds, options=options)
        if res.status == 2:
            retry = minimize(objective, res.x, jac=True, method="L-BFGS-B", bounds=bounds, options=options)
            retry.nit += res.nit
            res = retry if retry.fun <= res.fun else res
    return res


def _result(model: str, res, total_ll: float, n: int) -> FitResult:
    names = PARAM_NAMES[model]
    problems = []
    if not res.success:
        problems.append(f"optimiser: {res.message}")
    if not np.all(np.isfinite(res.x)) or not np.isfinite(total_ll):
        problems.append("non-finite parameters or log-likelihood")
    at_bound = [nm for nm, v in zip(names, res.x, strict=True) if abs(v) > _LOG_BOUND - _BOUND_TOL]
    # On the dropout side (BG/NBD a, b; Pareto/NBD s, beta) a bound is the no-dropout limit, whose
    # purchase predictions are those of the NBD model: usable, and reported as such. A purchase
    # parameter (r, alpha) on a bound is a degenerate fit.
    degenerate = [nm for nm in at_bound if nm not in DROPOUT_PARAMS.get(model, ())]
    if degenerate:
        problems.append(f"{', '.join(at_bound)} on the optimisation bound (degenerate fit)")
    return FitResult(
        model=model,
        params={nm: float(v) for nm, v in zip(names, np.exp(res.x), strict=True)},
        log_likelihood=float(total_ll),
        n_customers=n,
        converged=not problems,
        message="; ".join(problems)
        if problems
        else str(res.message)
        + (f"; {', '.join(at_bound)} on the optimisation bound (no dropout found)" if at_bound else ""),
        iterations=int(getattr(res, "nit", 0)),
        at_bound=tuple(at_bound),
    )


def _rfm_objective(model: str, d: RfmData) -> Callable:
    """Mean negative log-likelihood of log-parameters and its gradient."""
    total = d.w.sum()
    n_pairs = len(d.pair_x)

    def pair_sum(index: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return np.bincount(index, weights=weights, minlength=n_pairs)

    def bgnbd(u: np.ndarray):
        params = np.exp(u)
        alive_p, dead_p = _bgnbd_pairs(params, d)
        alive = alive_p[d.j]
        ll = _logaddexp(alive, dead_p[d.k])
        value = -_wsum(d.w, ll) / total
        if not np.isfinite(value):
            return 1e10, np.zeros_like(u)
        # Chain rule through logaddexp, summed per pair so the digammas run once per pair.
        w_alive = d.w * np.exp(alive - ll)
        g_alive, g_dead = _bgnbd_pair_grads(params, d)
        grad = g_alive @ pair_sum(d.j, w_alive) + g_dead @ pair_sum(d.k, d.w - w_alive)
        return value, -grad * params / total  # d/d log(theta) = theta d/d theta

    def pareto(u: np.ndarray):
        params = np.exp(u)
        alive_p, tail_p, grads = _pnbd_pairs(params, d, grad=True)
        alive, tail_T, tail_t = alive_p[d.j], tail_p[d.j], tail_p[d.k]
        ll = _logaddexp(alive, _pnbd_dead(tail_t, tail_T))
        value = -_wsum(d.w, ll) / total
        if not np.isfinite(value):
            return 1e10, np.zeros_like(u)
        # L = e^alive + e^tail_t - e^tail_T, so d log L = sum over terms of +-e^(term - log L) d term.
        g_alive, g_tail = grads
        share = {name: d.w * np.exp(term - ll) for name, term in (("a", alive), ("T", tail_T), ("t", tail_t))}
        grad = g_alive @ pair_sum(d.j, share["a"]) + g_tail @ (
            pair_sum(d.k, share["t"]) - pair_sum(d.j, share["T"])
        )
        return value, -grad / total

    return bgnbd if model == BG_NBD else pareto


def _fit_rfm(model: str, d: RfmData, start: Mapping[str, float] | None) -> FitResult:
    if len(d.x) == 0:
        raise ValueError("no customers to fit")
    if start is None and model == PARETO_NBD:
        # BG/NBD shares the purchase process and fits several times faster: its parameters give
        # a start close to the Pareto/NBD optimum.
        bg = _fit_rfm(BG_NBD, d, None)
        start = pareto_start_from_bgnbd(bg.params) if bg.converged else None
    if start is not None:
        theta0 = _param_vector(model, start)
    else:
        # Data-driven start: the mean purchase rate r/alpha matches the observed repeat rate; the
        # dropout matches a chance of 1/4 per purchase (BG/NBD) or a lifetime of the mean age.
        rate = max(_wsum(d.w, d.x) / max(_wsum(d.w, d.T), 1e-12), 1e-6)
        last = 3.0 if model == BG_NBD else max(_wsum(d.w, d.T) / d.w.sum(), 1e-3)
        theta0 = np.array([1.0, 1.0 / rate, 1.0, last])
        if len(d.x) > _WARM_START_ROWS:
            thinned = np.random.default_rng(0).binomial(d.w.astype(np.int64), min(1.0, 20_000 / d.w.sum()))
            keep = thinned > 0
            sub = RfmData.build(d.x[keep], d.t_x[keep], d.T[keep], thinned[keep])
            res = _minimize(_rfm_objective(model, sub), theta0)
            if res.success and np.all(np.abs(res.x) < _LOG_BOUND - _BOUND_TOL):
                theta0 = np.exp(res.x)
    res = _minimize(_rfm_objective(model, d), theta0)
    with np.errstate(all="ignore"):
        total_ll = _wsum(d.w, _logaddexp(*_terms(model, np.exp(res.x), d)))
    return _result(model, res, total_ll, d.n_customers)


def pareto_start_from_bgnbd(params: Mapping[str, float]) -> dict[str, float]:
    """Pareto/NBD starting values from BG/NBD parameters: same gamma purchase rates (r, alpha);
    s = 1 and beta = 1 / (mean rate r/alpha x mean dropout chance per purchase a/(a+b))."""
    r, alpha, a, b = _param_vector(BG_NBD, params)
    return {"r": r, "alpha": alpha, "s": 1.0, "beta": alpha * (a + b) / (r * a)}


def fit_bgnbd(
    x: RfmData | ArrayLike,
    t_x: ArrayLike | None = None,
    T: ArrayLike | None = None,
    *,
    weights: ArrayLike | None = None,
    start: Mapping[str, float] | None = None,
) -> FitResult:
    """Maximum-likelihood BG/NBD fit on customers' (x, t_x, T) (arrays or an RfmData)."""
    return _fit_rfm(BG_NBD, _data(x, t_x, T, weights), start)


def fit_pareto_nbd(
    x: RfmData | ArrayLike,
    t_x: ArrayLike | None = None,
    T: ArrayLike | None = None,
    *,
    weights: ArrayLike | None = None,
    start: Mapping[str, float] | None = None,
) -> FitResult:
    """Maximum-likelihood Pareto/NBD fit on customers' (x, t_x, T) (arrays or an RfmData).
    Without `start`, a BG/NBD fit on the same data provides it."""
    return _fit_rfm(PARETO_NBD, _data(x, t_x, T, weights), start)


def fit_gamma_gamma(
    x: ArrayLike, mean_value: ArrayLike, *, start: Mapping[str, float] | None = None
) -> FitResult:
    """Maximum-likelihood Gamma-Gamma fit on repeat buyers: x >= 1 and mean value per repeat purchase > 0."""
    d = _Spend.build(x, mean_value)
    n = len(d.x)
    # Default start: p = q = 2 with gamma matching the mean spend, E[m] = p gamma / (q - 1).
    theta0 = _param_vector(GAMMA_GAMMA, start) if start else np.array([2.0, 2.0, float(np.mean(d.m)) / 2.0])

    def objective(u: np.ndarray):
        params = np.exp(u)
        ll, g = _gg_core(params, d, grad=True)
        value = -ll.sum() / n
        if not np.isfinite(value):
            return 1e10, np.zeros_like(u)
        return value, -g * params / n

    res = _minimize(objective, theta0)
    with np.errstate(all="ignore"):
        total_ll = float(_gg_core(np.exp(res.x), d, grad=False)[0].sum())
    return _result(GAMMA_GAMMA, res, total_ll, n)
