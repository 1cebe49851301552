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
`pymc-marketing` pulls in pymc + pytensor and spends ~12 s compiling before the first fit.
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
thousands, where SciPy's hyp2f1 takes ~25 us a point and fails on half of them, and per pair
the stage took 75-84 s at a million customers; on the grid a Pareto/NBD evaluation with
gradient takes ~10 ms for 19k pairs and the whole stage ~2 s (benchmarks/bench_clv.py, which
also compares lifetimes' BetaGeoFitter: 10-30x slower than our BG/NBD fit, with machine load).

A fit that fails to converge or ends on a parameter bound is returned with `converged=False`;
prediction functions refuse it (FitError).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.optimize import minimize
from scipy.special import betaln, digamma, gammaln, hyp2f1, logsumexp
from threadpoolctl import threadpool_limits

BG_NBD = "bg_nbd"
PARETO_NBD = "pareto_nbd"
GAMMA_GAMMA = "gamma_gamma"
PARAM_NAMES = {
    BG_NBD: ("r", "alpha", "a", "b"),
    PARETO_NBD: ("r", "alpha", "s", "beta"),
    GAMMA_GAMMA: ("p", "q", "gamma"),
}

# The parameters of the dropout process: on a bound they mean "no dropout found" (see _result).
DROPOUT_PARAMS = {BG_NBD: ("a", "b"), PARETO_NBD: ("s", "beta")}

# Optimisation happens on log-parameters inside these bounds (1e-6 .. 1e6): wide enough for any
# sensible time unit; a fit that runs into them is degenerate and reported as not converged.
_LOG_BOUND = float(np.log(1e6))
_BOUND_TOL = 1e-3
# Above this many distinct rows a fit without a given start first converges on a ~20k-customer
# binomially thinned sample, then polishes on all rows (fewer full-data evaluations).
_WARM_START_ROWS = 50_000

ArrayLike = np.ndarray | list[float] | float


class FitError(RuntimeError):
    """Raised when a fit that did not converge is about to be used."""


@dataclass(frozen=True)
class FitResult:
    """Outcome of a maximum-likelihood fit; `params` may only be used when `converged`."""

    model: str
    params: dict[str, float]
    log_likelihood: float
    n_customers: int
    converged: bool
    message: str
    iterations: int = 0
    # Dropout parameters that ended on the optimisation bound in an otherwise sound fit: the model
    # found (almost) no dropout, so its P(alive) is ~1 by construction, not by evidence.
    at_bound: tuple[str, ...] = ()

    @classmethod
    def given(cls, model: str, params: Mapping[str, float]) -> FitResult:
        """Wrap known parameters (published, or stored by an earlier run) for prediction."""
        values = {name: float(params[name]) for name in PARAM_NAMES[model]}
        return cls(model, values, float("nan"), 0, True, "parameters given, not fitted")

    def require_converged(self) -> FitResult:
        if not self.converged:
            raise FitError(f"{self.model} fit did not converge: {self.message}")
        return self


# --------------------------------------------------------------------------------------------
# Compressed customer data
# --------------------------------------------------------------------------------------------


def unique_rows(*cols: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Distinct rows of the given columns: (distinct columns, inverse index, counts), rows in order
    of first appearance.

    The contract of np.unique(axis=0, return_inverse=True, return_counts=True) except for the row
    order, computed with a Polars hash group-by: ~10x faster than np.unique(axis=0) and ~2x faster
    than a lexsort on a million rows.
    """
    names = [f"c{i}" for i in range(len(cols))]
    frame = pl.DataFrame({name: np.asarray(c) for name, c in zip(names, cols, strict=True)})
    if frame.height == 0:
        return (
            [frame[name].to_numpy() for name in names],
            np.zeros(0, dtype=np.intp),
            np.zeros(0, dtype=np.intp),
        )
    groups = frame.with_row_index("_row").group_by(names, maintain_order=True).agg(pl.col("_row"))
    counts = groups["_row"].list.len().to_numpy().astype(np.intp)
    inverse = np.empty(frame.height, dtype=np.intp)
    inverse[groups["_row"].explode().to_numpy()] = np.repeat(np.arange(groups.height), counts)
    return [groups[name].to_numpy() for name in names], inverse, counts


def _as_float(*arrays: ArrayLike) -> list[np.ndarray]:
    return [np.atleast_1d(np.asarray(a, dtype=np.float64)) for a in arrays]


@dataclass
class RfmData:
    """Customers' (x, t_x, T) compressed for fitting and prediction; build once, use many times.

    Rows are the distinct (x, t_x, T) triples with `w` customers each (`inverse` maps customers to
    rows). Every special function of the likelihoods depends on (x, t_x) or (x, T) only, so it
    is evaluated on the distinct (x, t) pairs, t in {t_x, T}: `k` and `j` map rows to pairs; and
    what depends on x alone on the distinct x values (`pair_xi` maps pairs to `x_values`). The
    Pareto/NBD integral is computed once on the grid of distinct x values by sorted distinct t
    values (`pair_ti` maps pairs to `t_values`): purchase days make t a multiple of a day, so
    that grid stays small (~80 x 730 at a million customers over two years, in weeks).
    """

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    w: np.ndarray
    inverse: np.ndarray
    pair_x: np.ndarray
    pair_t: np.ndarray
    k: np.ndarray  # row -> pair (x, t_x)
    j: np.ndarray  # row -> pair (x, T)
    x_values: np.ndarray
    pair_xi: np.ndarray
    t_values: np.ndarray
    pair_ti: np.ndarray

    @classmethod
    def build(cls, x: ArrayLike, t_x: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None) -> RfmData:
        """`weights`: customers per input row (default 1 each). Scalars broadcast."""
        x, t_x, T = (np.ascontiguousarray(a) for a in np.broadcast_arrays(*_as_float(x, t_x, T)))
        finite = np.isfinite(x).all() and np.isfinite(t_x).all() and np.isfinite(T).all()
        if not finite or (x < 0).any() or (t_x < 0).any() or (t_x > T).any():
            raise ValueError("need finite x >= 0 and 0 <= t_x <= T")
        if ((x == 0) & (t_x != 0)).any():
            raise ValueError("t_x must be 0 when x == 0")
        (xd, txd, Td), inverse, counts = unique_rows(x, t_x, T)
        w = (
            counts.astype(np.float64)
            if weights is None
            else np.bincount(inverse, weights=_as_float(weights)[0])
        )
        (px, pt), pairs, _ = unique_rows(np.concatenate([xd, xd]), np.concatenate([txd, Td]))
        x_values, pair_xi = np.unique(px, return_inverse=True)
        t_values, pair_ti = np.unique(pt, return_inverse=True)
        k, j = pairs[: len(xd)], pairs[len(xd) :]
        return cls(xd, txd, Td, w, inverse, px, pt, k, j, x_values, pair_xi, t_values, pair_ti)

    @property
    def n_customers(self) -> int:
        return int(round(self.w.sum()))


def _data(x: RfmData | ArrayLike, t_x: ArrayLike | None, T: ArrayLike | None, weights=None) -> RfmData:
    if isinstance(x, RfmData):
        return x
    if t_x is None or T is None:
        raise TypeError("pass an RfmData or the three arrays x, t_x, T")
    return RfmData.build(x, t_x, T, weights)


def _logaddexp(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log(e^a + e^b) for a > -inf; np.logaddexp is unvectorised and ~20x slower on 1M rows."""
    return np.maximum(a, b) + np.log1p(np.exp(-np.abs(a - b)))


def _wsum(w: np.ndarray, v: np.ndarray) -> float:
    return float(np.einsum("i,i->", w, v))


# --------------------------------------------------------------------------------------------
# Likelihood terms: log L = logaddexp(alive, dead) per distinct row
# --------------------------------------------------------------------------------------------


def _bgnbd_pairs(params: np.ndarray, d: RfmData) -> tuple[np.ndarray, np.ndarray]:
    """Pair-level BG/NBD terms (FHL 2005, eq. 6), L = e^alive(x, T) + e^dead(x, t_x):

    alive(x, t) = log[G(r+x) alpha^r / G(r) * B(a, b+x)/B(a, b) / (alpha+t)^(r+x)]
    dead(x, t)  = log[G(r+x) alpha^r / G(r) * B(a+1, b+x-1)/B(a, b) / (alpha+t)^(r+x)], -inf for x = 0
    """
    r, alpha, a, b = params
    xv, xi = d.x_values, d.pair_xi  # special functions of x run once per distinct x
    buy = xv > 0
    common_x = -gammaln(r) + r * np.log(alpha) - betaln(a, b) + gammaln(r + xv)
    dead_x = np.where(buy, betaln(a + 1.0, b + np.where(buy, xv - 1.0, 1.0)), -np.inf)
    common = common_x[xi] - (r + d.pair_x) * np.log(alpha + d.pair_t)
    return common + betaln(a, b + xv)[xi], common + dead_x[xi]


def _bgnbd_pair_grads(params: np.ndarray, d: RfmData) -> tuple[np.ndarray, np.ndarray]:
    """d/d(r, alpha, a, b) of alive and dead per pair, each of shape (4, pairs)."""
    r, alpha, a, b = params
    xv, xi = d.x_values, d.pair_xi
    dg_abx = digamma(a + b + xv)
    common_r = (digamma(r + xv) - digamma(r) + np.log(alpha))[xi] - np.log(alpha + d.pair_t)
    common_alpha = r / alpha - (r + d.pair_x) / (alpha + d.pair_t)
    common_a = (digamma(a + b) - digamma(a) - dg_abx)[xi]
    common_b = digamma(a + b) - digamma(b) - dg_abx
    g_alive = np.stack([common_r, common_alpha, common_a + digamma(a), (common_b + digamma(b + xv))[xi]])
    # For x = 0 the dead term is absent (weight 0); keep its derivative finite.
    dg_b = digamma(b + np.where(xv > 0, xv - 1.0, 1.0))
    g_dead = np.stack([common_r, common_alpha, common_a + digamma(a + 1.0), (common_b + dg_b)[xi]])
    return g_alive, g_dead


def _pnbd_log_f(r: float, alpha: float, s: float, beta: float, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """log F, the hypergeometric factor of Fader & Hardie's A0(t) = (alpha+t)^-(r+x) (beta+t)^-s F.

    They write A0(t) = 2F1(r+s+x, s+1; r+s+x+1; (alpha-beta)/(alpha+t)) / (alpha+t)^(r+s+x) for
    alpha >= beta, swapping (alpha, s+1) with (beta, r+x) otherwise so the argument stays in
    [0, 1). Euler's transform turns the first into F = 2F1(1, r+x; r+s+x+1; z), a series of
    positive, bounded terms that neither overflows nor loses precision for heavy buyers; Pfaff's
    transform does the same for the alpha < beta branch. SciPy's hyp2f1 returns NaN for large
    r+s+x with z near 1 (it overflows a gamma-function ratio); those pairs use quadrature.
    """
    n1 = r + s + x + 1.0
    with np.errstate(all="ignore"):
        if alpha >= beta:
            hyp = hyp2f1(1.0, r + x, n1, (alpha - beta) / (alpha + t))
            log_f = np.log(hyp)
        else:
            hyp = hyp2f1(1.0, s + 1.0, n1, (beta - alpha) / (beta + t))
            log_f = np.log(alpha + t) - np.log(beta + t) + np.log(hyp)
    bad = ~(hyp >= 1.0) | ~np.isfinite(hyp)  # every series term is positive and the first is 1
    if bad.any():
        log_f = np.where(bad, 0.0, log_f)
        log_f[bad] = _pnbd_log_f_quadrature(r, alpha, s, beta, np.broadcast_to(x, bad.shape)[bad], t[bad])
    return log_f


# Double-exponential (exp-sinh) quadrature nodes for integrals over (0, inf) of functions that
# start at 1 and decay: v = exp(tau - exp(-tau)); accurate to ~1e-12 over decay scales 1e-5..1e5.
_DE_STEP = 1.0 / 32.0
_DE_TAU = np.arange(-4.5, 12.0, _DE_STEP)[:, None]
_DE_V = np.exp(_DE_TAU - np.exp(-_DE_TAU))
_DE_LOG_WEIGHT = np.log(_DE_V * (1.0 + np.exp(-_DE_TAU)) * _DE_STEP)


def _pnbd_log_f_quadrature(
    r: float, alpha: float, s: float, beta: float, x: np.ndarray, t: np.ndarray
) -> np.ndarray:
    """log F from its integral form (substituting y = log((beta+u)/(beta+t)) in A0's integral):

    F = (r+s+x) * integral_0^inf exp(-s y) (1 + kappa (e^y - 1))^-(r+x) dy,  kappa = (beta+t)/(alpha+t),

    scaled by the initial decay rate lam = s + (r+x) kappa. Slower than hyp2f1 (~500 nodes), so
    only used where hyp2f1 fails.
    """
    kappa = (beta + t) / (alpha + t)
    lam = s + (r + x) * kappa
    y = _DE_V / lam
    with np.errstate(over="ignore"):
        log_integrand = -s * y - (r + x) * np.log1p(kappa * np.expm1(y))
    return np.log(r + s + x) - np.log(lam) + logsumexp(log_integrand + _DE_LOG_WEIGHT, axis=0)


def _pnbd_pairs(
    params: np.ndarray, d: RfmData, grad: bool = False
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """Pair-level Pareto/NBD terms, L = e^alive(x, T) + e^tail(x, t_x) - e^tail(x, T), where

    alive(x, t) = log[G(r+x) alpha^r beta^s / G(r) / ((alpha+t)^(r+x) (beta+t)^s)]
    tail(x, t)  = log[G(r+x) alpha^r beta^s / G(r) * s * I(x, t)],
    I(x, t)     = integral_t^inf (alpha+u)^-(r+x) (beta+u)^-(s+1) du  (Fader & Hardie's
                  s/(r+s+x) A0(t): the chance of dropping out after t, given x purchases).
    With `grad`, also their derivatives with respect to log(r, alpha, s, beta), each (4, pairs).
    """
    r, alpha, s, beta = params
    x, t, xi = d.pair_x, d.pair_t, d.pair_xi
    common = (-gammaln(r) + r * np.log(alpha) + s * np.log(beta) + gammaln(r + d.x_values))[xi]
    log_a, log_b = np.log(alpha + t), np.log(beta + t)
    alive = common - (r + x) * log_a - s * log_b
    log_i, g_i = _pnbd_log_integral(params, d, grad)
    tail = common + np.log(s) + log_i
    if not grad:
        return alive, tail, None
    g_common = np.stack(
        [
            r * (digamma(r + d.x_values) - digamma(r) + np.log(alpha))[xi],
            np.full(len(x), r),
            np.full(len(x), s * np.log(beta)),
            np.full(len(x), s),
        ]
    )
    g_alive = g_common - np.stack(
        [r * log_a, alpha * (r + x) / (alpha + t), s * log_b, beta * s / (beta + t)]
    )
    g_tail = g_common + g_i
    g_tail[2] += 1.0  # d log(s) / d log(s)
    return alive, tail, (g_alive, g_tail)


def _pnbd_log_integral(params: np.ndarray, d: RfmData, grad: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """log I(x, t) per pair (see `_pnbd_pairs`) and, with `grad`, d log I / d log(r, alpha, s, beta)
    of shape (4, pairs): on the (x, t) grid when it is small enough, else pair by pair."""
    out = _pnbd_log_integral_grid(params, d, grad)
    return out if out is not None else _pnbd_log_integral_pairs(params, d, grad)


def _pnbd_log_integral_pairs(
    params: np.ndarray, d: RfmData, grad: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """log I = log F - (r+x) log(alpha+t) - s log(beta+t) - log(r+s+x) from the hypergeometric
    factor F (`_pnbd_log_f`), one pair at a time; F's parameter derivatives have no closed
    form: forward differences. Exact everywhere, but slow where SciPy's hyp2f1 is (large s)."""
    r, alpha, s, beta = params
    x, t = d.pair_x, d.pair_t
    log_f = _pnbd_log_f(r, alpha, s, beta, x, t)
    log_i = log_f - (r + x) * np.log(alpha + t) - s * np.log(beta + t) - np.log(r + s + x)
    if not grad:
        return log_i, None
    g = np.stack(
        [
            -r * (np.log(alpha + t) + 1.0 / (r + s + x)),
            -alpha * (r + x) / (alpha + t),
            -s * (np.log(beta + t) + 1.0 / (r + s + x)),
            -beta * s / (beta + t),
        ]
    )
    h = 1e-7
    for i in range(4):
        bumped = params.copy()
        bumped[i] *= np.exp(h)
        g[i] += (_pnbd_log_f(*bumped, x, t) - log_f) / h
    return log_i, g


# Gauss-Legendre rule on [0, 1] for the pieces of the (x, t) grid. A piece is at most as long as
# its distance to the integrand's singularities (-alpha, -beta) and the integrand decays by at
# most e^-_GL_DECAY over it: the rule is then exact to ~1e-13 (checked against mpmath).
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(10)
_GL_NODES, _GL_WEIGHTS = 0.5 * (1.0 + _GL_NODES), 0.5 * _GL_WEIGHTS
_GL_DECAY = 3.0
# Above this many (distinct x) * (quadrature nodes) the grid costs more than it saves (many
# distinct t, extreme parameters): pair-by-pair evaluation instead.
_GRID_MAX_CELLS = 3_000_000


def _pnbd_log_integral_grid(
    params: np.ndarray, d: RfmData, grad: bool
) -> tuple[np.ndarray, np.ndarray | None] | None:
    """log I(x, t) for every distinct x and sorted distinct t at once, or None if too costly.

    I(x, t_i) = sum over the later segments [t_i, t_i+1], ..., [t_last, inf) of the integral of
    g_x(u) = (alpha+u)^-(r+x) (beta+u)^-(s+1). The finite segments use Gauss-Legendre nodes shared
    by all x (pieces graded geometrically where the integrand changes fast), the last one the
    exp-sinh rule of `_pnbd_log_f_quadrature`; each is scaled by g_x at its start (no underflow)
    and the suffix sums are accumulated in log space. The derivatives are the integrals of
    d g_x / d theta on the same nodes, so they cost no further evaluations.
    """
    r, alpha, s, beta = params
    xv, tv = d.x_values, d.t_values
    rx, s1 = r + xv, s + 1.0
    t0, width = tv[:-1], np.diff(tv)
    # Pieces per segment: geometric in (low + u), low = min(alpha, beta), with ratio 1 + step so
    # that a piece is no longer than low + u and its decay rate times length stays <= _GL_DECAY.
    low = min(alpha, beta)
    t1 = tv[1:]
    load = rx.max() * (low + t1) / (alpha + t1) + s1 * (low + t1) / (beta + t1)
    span = np.log1p(width / (low + t0))
    wanted = span / np.log1p(np.minimum(1.0, _GL_DECAY / load))
    cells = (wanted.sum() + len(wanted)) * len(_GL_NODES) * len(xv)  # >= the grid's size
    if not np.isfinite(cells) or cells > _GRID_MAX_CELLS:
        return None
    pieces = np.maximum(np.ceil(wanted), 1.0).astype(np.intp)
    segment = np.repeat(np.arange(len(t0)), pieces)
    first = np.cumsum(pieces) - pieces
    k = np.arange(len(segment)) - first[segment]
    base, frac = (low + t0)[segment], (span / pieces)[segment]
    start = base * np.expm1(frac * k)  # offsets from the segment start, exact at both ends
    end = np.where(k + 1 == pieces[segment], width[segment], base * np.expm1(frac * (k + 1)))
    offset = (start[:, None] + (end - start)[:, None] * _GL_NODES).ravel()
    weight = ((end - start)[:, None] * _GL_WEIGHTS).ravel()
    node_segment = np.repeat(segment, len(_GL_NODES))
    a0, b0 = alpha + t0, beta + t0
    d_log_a = np.log1p(offset / a0[node_segment])  # log((alpha+u) / (alpha+t_i))
    d_log_b = np.log1p(offset / b0[node_segment])
    scaled = np.exp(np.outer(-rx, d_log_a) - s1 * d_log_b) * weight  # g_x(u) / g_x(t_i) * weight
    bounds = first * len(_GL_NODES)
    mass = np.add.reduceat(scaled, bounds, axis=1)
    with np.errstate(divide="ignore"):  # a segment of subnormal width has no mass: log 0 = -inf
        log_seg = np.outer(-rx, np.log(a0)) - s1 * np.log(b0) + np.log(mass)

    # Last segment [t_last, inf): u = (beta+t) e^y - beta, integrand e^(-s y) (1 + kappa expm1(y))^-(r+x).
    t_last = tv[-1]
    kappa = (beta + t_last) / (alpha + t_last)
    lam = s + rx * kappa  # initial decay rate in y: the nodes are scaled by it
    y = _DE_V / lam
    with np.errstate(over="ignore"):
        q = np.log1p(kappa * np.expm1(y))  # log((alpha+u) / (alpha+t_last))
        log_h = -s * y - rx * q + _DE_LOG_WEIGHT
    top = log_h.max(axis=0)
    h = np.exp(log_h - top)
    h_sum = h.sum(axis=0)
    log_last = -rx * np.log(alpha + t_last) - s * np.log(beta + t_last) + top + np.log(h_sum / lam)

    log_j = np.concatenate([log_seg, log_last[:, None]], axis=1)  # (x values, t values)
    log_c = np.logaddexp.accumulate(log_j[:, ::-1], axis=1)[:, ::-1]
    log_i = log_c[d.pair_xi, d.pair_ti]
    if not np.all(np.isfinite(log_i)):
        return None
    if not grad:
        return log_i, None

    # Mean of d log g_x / d theta over each segment, weighted by its integrand: (4, x, t).
    own = np.empty((4, *log_j.shape))
    mass = np.where(mass > 0.0, mass, 1.0)  # (segments without mass have weight 0 below)
    inv_a = 1.0 / (a0[node_segment] + offset)
    inv_b = 1.0 / (b0[node_segment] + offset)
    own[0, :, :-1] = -np.log(a0) - np.add.reduceat(scaled * d_log_a, bounds, axis=1) / mass
    own[1, :, :-1] = -rx[:, None] * np.add.reduceat(scaled * inv_a, bounds, axis=1) / mass
    own[2, :, :-1] = -np.log(b0) - np.add.reduceat(scaled * d_log_b, bounds, axis=1) / mass
    own[3, :, :-1] = -s1 * np.add.reduceat(scaled * inv_b, bounds, axis=1) / mass
    h = h / h_sum
    live = h > 0  # q = inf where the integrand underflowed
    own[0, :, -1] = -np.log(alpha + t_last) - (h * np.where(live, q, 0.0)).sum(axis=0)
    own[1, :, -1] = -rx / (alpha + t_last) * (h / (1.0 + kappa * np.expm1(np.minimum(y, 700.0)))).sum(axis=0)
    own[2, :, -1] = -np.log(beta + t_last) - (h * y).sum(axis=0)
    own[3, :, -1] = -s1 / (beta + t_last) * (h * np.exp(-y)).sum(axis=0)
    g = _suffix_mean(log_j, log_c, own)[:, d.pair_xi, d.pair_ti]
    return log_i, g * params[:, None]


def _suffix_mean(log_j: np.ndarray, log_c: np.ndarray, values: np.ndarray) -> np.ndarray:
    """sum over j >= i of e^(log_j[j] - log_c[i]) values[j] along the last axis, where log_c is
    the suffix log-sum-exp of log_j: the derivative of log_c[i] when values = d log_j.

    A cumulative sum scaled by each row's largest term when the row spans < e^600; otherwise
    the recurrence m_i = p_i v_i + (1 - p_i) m_(i+1), p_i = e^(log_j[i] - log_c[i]), solved by
    recursive doubling (log2(columns) steps, no overflow whatever the range).
    """
    rel = log_c - log_c[:, :1]
    if rel.min() > -600.0:
        with np.errstate(under="ignore"):
            terms = np.exp(log_j - log_c[:, :1]) * values
        return np.cumsum(terms[..., ::-1], axis=-1)[..., ::-1] / np.exp(rel)
    p = np.exp(log_j - log_c)
    factor = np.broadcast_to(1.0 - p, values.shape).copy()
    total = p * values
    step, n = 1, log_j.shape[-1]
    while step < n:
        total[..., :-step] += factor[..., :-step] * total[..., step:]
        factor[..., :-step] *= factor[..., step:]
        step *= 2
    return total


def _pnbd_dead(tail_t: np.ndarray, tail_T: np.ndarray) -> np.ndarray:
    """log(e^tail_t - e^tail_T); A0 decreases in t, so this is >= 0 (and -inf when t_x = T)."""
    with np.errstate(divide="ignore"):
        return tail_t + np.log(-np.expm1(np.minimum(tail_T - tail_t, 0.0)))


def _terms(model: str, params: np.ndarray, d: RfmData) -> tuple[np.ndarray, np.ndarray]:
    """Row-level (alive, dead) log terms."""
    if model == BG_NBD:
        alive, dead = _bgnbd_pairs(params, d)
        return alive[d.j], dead[d.k]
    alive, tail, _ = _pnbd_pairs(params, d)
    return alive[d.j], _pnbd_dead(tail[d.k], tail[d.j])


def log_likelihood(
    model: str,
    params: Mapping[str, float],
    x: RfmData | ArrayLike,
    t_x: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> np.ndarray:
    """Per-customer log-likelihood of `model` ("bg_nbd" or "pareto_nbd") at `params`."""
    d = _data(x, t_x, T)
    return _logaddexp(*_terms(model, _param_vector(model, params), d))[d.inverse]


# --------------------------------------------------------------------------------------------
# Predictions
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Fitting
# --------------------------------------------------------------------------------------------


def _param_vector(model: str, params: Mapping[str, float]) -> np.ndarray:
    return np.array([float(params[name]) for name in PARAM_NAMES[model]])


def _minimize(objective: Callable, start: np.ndarray):
    """L-BFGS-B on log-parameters; `objective` returns (mean negative log-likelihood, gradient).

    A line-search failure ("ABNORMAL") gets one restart from where it stopped, which drops the
    stale curvature memory; if it still fails, the fit is reported as not converged.
    """
    options = {"maxiter": 500, "ftol": 1e-12, "gtol": 1e-6}
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(start)
    x0 = np.clip(np.log(start), -_LOG_BOUND + 1.0, _LOG_BOUND - 1.0)
    # L-BFGS-B calls BLAS on tiny problems; OpenBLAS threads cost ~5 ms per iteration on a busy
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
