"""Conditional predictions of fitted models: expected purchases, P(alive), the expected dropout share,
Gamma-Gamma's expected value per purchase."""

from __future__ import annotations

import numpy as np
from scipy.special import hyp2f1

from segmentation_pipeline.models.btyd.data import (
    BG_NBD,
    GAMMA_GAMMA,
    ArrayLike,
    FitError,
    FitResult,
    RfmData,
    _as_float,
    _data,
    _param_vector,
)
from segmentation_pipeline.models.btyd.likelihood import _logaddexp, _terms


def _bgnbd_if_alive(
    r: float, alpha: float, a: float, b: float, x: np.ndarray, T: np.ndarray, t: np.ndarray
) -> np.ndarray:
    z, c, x = np.broadcast_arrays(t / (alpha + T + t), a + b + x - 1.0, x)
    first = a + b - 1.0 - r
    first = 0.0 if abs(first) < 1e-12 else first  # SciPy returns inf for |first| ~ 1e-16 (2F1 = 1 at 0)
    with np.errstate(all="ignore"):
        f = np.exp((a - 1.0) * np.log1p(-z)) * hyp2f1(first, a - 1.0, c, z)
        # Large a overflows the Euler form; the paper's own form is then the tame one.
        bad = ~np.isfinite(f)
        if bad.any():
            zb, xb = z[bad], x[bad]
            f[bad] = np.exp((r + xb) * np.log1p(-zb)) * hyp2f1(r + xb, b + xb, c[bad], zb)
        # Large c with z near 1: SciPy overflows a gamma ratio, while the plain series converges fast.
        bad = ~np.isfinite(f)
        if bad.any():
            zb = z[bad]
            f[bad] = np.exp((a - 1.0) * np.log1p(-zb)) * _hyp2f1_series(first, a - 1.0, c[bad], zb)
    if not np.all(np.isfinite(f)):
        raise FloatingPointError(f"BG/NBD expectation not finite at r, alpha, a, b = {r}, {alpha}, {a}, {b}")
    return (a + b + x - 1.0) / (a - 1.0) * (1.0 - f)


def _hyp2f1_series(a: float, b: float, c: np.ndarray, z: np.ndarray, max_terms: int = 100_000) -> np.ndarray:
    """Gauss's series for 2F1(a, b; c; z). Its terms shrink like k^(a+b-c-1) z^k, so it converges
    fast exactly where SciPy fails for the BG/NBD expectation (c - a - b = r + x large)."""
    term, total = np.ones_like(z), np.ones_like(z)
    for k in range(max_terms):
        term = term * ((a + k) * (b + k) / ((c + k) * (k + 1.0)) * z)
        total += term
        if np.all(np.abs(term) <= 1e-17 * np.abs(total)):
            return total
    return np.full_like(z, np.nan)  # did not converge: the caller raises


def _purchases_if_alive(
    model: str, params: np.ndarray, x: np.ndarray, T: np.ndarray, t: np.ndarray
) -> np.ndarray:
    """E[purchases in (T, T+t] | alive at T], shape (len(t), pairs); t is a column (k, 1).

    BG/NBD (FHL 2005, eq. 10): (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x;
    a+b+x-1; z)], z = t/(alpha+T+t). That product explodes for heavy buyers; its Euler transform
    (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z) is the same number and stays close to 1.
    Pareto/NBD: (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)], with expm1
    so that s -> 1 (a logarithm in the limit) stays accurate.
    """
    if model == BG_NBD:
        r, alpha, a, b = params
        if abs(a - 1.0) >= 1e-5:
            return _bgnbd_if_alive(r, alpha, a, b, x, T, t)
        # a = 1 is a removable singularity (0/0): interpolate between a = 1 -+ 1e-5 rather than
        # evaluate next to it and lose digits to cancellation (accurate to ~1e-10).
        lo, hi = (_bgnbd_if_alive(r, alpha, a_, b, x, T, t) for a_ in (1.0 - 1e-5, 1.0 + 1e-5))
        return lo + (hi - lo) * (a - (1.0 - 1e-5)) / 2e-5
    r, alpha, s, beta = params
    log_ratio = np.log1p(t / (beta + T))  # log((beta+T+t)/(beta+T))
    horizon = log_ratio if abs(s - 1.0) < 1e-12 else np.expm1((1.0 - s) * log_ratio) / (1.0 - s)
    return (r + x) * (beta + T) / (alpha + T) * horizon


def predict_purchases(
    fit: FitResult,
    t: ArrayLike,
    x: RfmData | ArrayLike,
    t_x: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(P(alive at T), expected purchases in (T, T+t]) per customer under a converged fit.

    A scalar t gives expected purchases of shape (customers,); a 1-D t gives (len(t), customers).
    """
    fit.require_converged()
    params = _param_vector(fit.model, fit.params)
    ts = np.asarray(t, dtype=np.float64)
    if ts.ndim > 1 or (ts < 0).any():
        raise ValueError("t must be a non-negative scalar or 1-D array")
    d = _data(x, t_x, T)
    alive, dead = _terms(fit.model, params, d)
    p_alive = np.exp(alive - _logaddexp(alive, dead))
    # Only the (x, T) pairs matter here; (x, t_x) pairs can sit where the formulas are unstable.
    used = np.flatnonzero(np.bincount(d.j, minlength=len(d.pair_x)))
    position = np.empty(len(d.pair_x), dtype=np.intp)
    position[used] = np.arange(len(used))
    horizons = np.atleast_1d(ts)[:, None]
    if_alive = _purchases_if_alive(fit.model, params, d.pair_x[used], d.pair_t[used], horizons)
    expected = (if_alive[:, position[d.j]] * p_alive)[:, d.inverse]
    return p_alive[d.inverse], expected[0] if ts.ndim == 0 else expected


def expected_dropout_share(fit: FitResult, data: RfmData) -> float:
    """The share of these customers the fitted model expects to have dropped out by now.

    A model-free yardstick for "did the model find any dropout at all": BG/NBD, the mean dropout
    chance per purchase a / (a + b) times the customers' mean repeat purchases; Pareto/NBD, the
    mean of 1 - (beta / (beta + T))^s, the chance of dying within each customer's observed span.
    """
    fit.require_converged()
    w = data.w.astype(np.float64)
    if fit.model == BG_NBD:
        a, b = fit.params["a"], fit.params["b"]
        return float(min(1.0, a / (a + b) * np.average(data.x, weights=w)))
    s, beta = fit.params["s"], fit.params["beta"]
    return float(np.average(1.0 - (beta / (beta + data.T)) ** s, weights=w))


def p_alive(
    fit: FitResult, x: RfmData | ArrayLike, t_x: ArrayLike | None = None, T: ArrayLike | None = None
) -> np.ndarray:
    """P(alive at T | x, t_x, T) under a converged BG/NBD or Pareto/NBD fit (1 for x = 0 in BG/NBD)."""
    return predict_purchases(fit, 0.0, x, t_x, T)[0]


def expected_purchases(
    fit: FitResult,
    t: ArrayLike,
    x: RfmData | ArrayLike,
    t_x: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> np.ndarray:
    """E[purchases in the next t time units | x, t_x, T] under a converged BG/NBD or Pareto/NBD fit."""
    return predict_purchases(fit, t, x, t_x, T)[1]


def gamma_gamma_expected_value(fit: FitResult, x: ArrayLike, mean_value: ArrayLike) -> np.ndarray:
    """E[value per purchase | x, mean] = p (gamma + x m) / (p x + q - 1); the population mean
    p gamma / (q - 1) when x = 0 (mean_value may then be NaN). Needs a converged fit with q > 1.
    """
    fit.require_converged()
    p, q, gamma = _param_vector(GAMMA_GAMMA, fit.params)
    if q <= 1.0:
        raise FitError(f"Gamma-Gamma q = {q:.4g} <= 1: the expected value per purchase is infinite")
    x, m = _as_float(x, mean_value)
    xm = np.where(x > 0, x * np.nan_to_num(m), 0.0)
    return p * (gamma + xm) / (p * x + q - 1.0)
