"""Log-likelihoods of BG/NBD and Pareto/NBD, per distinct (x, t_x, T) row, with analytic gradients
(the numerics are described in estimation.py)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.special import betaln, digamma, gammaln, hyp2f1, logsumexp

from segmentation_pipeline.models.btyd.data import BG_NBD, ArrayLike, RfmData, _data, _param_vector


def _logaddexp(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log(e^a + e^b) for a > -inf; np.logaddexp is unvectorised and far slower on many rows."""
    return np.maximum(a, b) + np.log1p(np.exp(-np.abs(a - b)))


def _wsum(w: np.ndarray, v: np.ndarray) -> float:
    return float(np.einsum("i,i->", w, v))


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
