"""The models' names and parameters, the result of a fit, and `RfmData`: customers compressed to their
distinct (x, t_x, T) rows with counts as weights (every likelihood and prediction works on it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl

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


def unique_rows(*cols: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Distinct rows of the given columns: (distinct columns, inverse index, counts), rows in order
    of first appearance.

    The contract of np.unique(axis=0, return_inverse=True, return_counts=True) except for the row
    order, computed with a Polars hash group-by: faster than np.unique(axis=0) (which sorts
    rows) and than a lexsort.
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


def _param_vector(model: str, params: Mapping[str, float]) -> np.ndarray:
    return np.array([float(params[name]) for name in PARAM_NAMES[model]])
