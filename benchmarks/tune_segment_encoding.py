"""Encodings of the segmentation's feature space compared by k-means at the true K, on the tuning worlds only.

For each world of `worlds.tuning_worlds()` (seeds 1001-1030; never the benchmark's seeds 1-20),
the buyers are encoded as `encoding.learn_encoding` does, then changed by one variant (none uses
the truth), and k-means (5 restarts, seed 42) cuts them at the planted K. Printed per variant: the
ARI over buyers (vs the planted archetype) and over everyone (prospects in segment 0, vs the
archetype the data shows), median / worst / mean over the worlds. Two rows use the truth and are
ceilings, not methods: per-column weights from the archetypes' between/within variance, and the
space whitened by the archetypes' pooled within covariance (LDA).

Variants (`--variants a,b,...`; default all):
  current         today's encoding (standard scores clipped at +-3, trait weights)
  noclip          not clipped (`--clip 0` of tune_segment_k)     clip2 / clip5 / clip8
  rank            numeric columns replaced by their mid-rank percentile, then standardised
  rankgauss       the same through the normal quantile function
  w_none          every column weight 1 (no trait weights)
  w_source        each source (orders, service, social, customer record, survey) the same total variance
  w_trait         each trait the same total variance (one-hots and indicators included)
  drop_survey     without the survey's columns       drop_topcat   without the top categories
  onehot_z        one-hot answers and indicators standardised like numeric columns
  pca             not clipped, projected on the principal components whose eigenvalue beats
                  three column-shuffled copies (Horn's parallel analysis)
  dependence      not clipped, each column weighted by sqrt(R^2) from the columns of other traits
  sparse          not clipped, Witten & Tibshirani's sparse k-means (L1 bound 0.5 sqrt(p))
  oracle_diag, oracle_lda   ceilings (use the truth)

`--held-out` runs the 20 benchmark worlds instead, to report a choice once (never to make it).

    .venv/bin/python -m benchmarks.tune_segment_encoding [--worlds 30] [--variants current,noclip] [--held-out]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import warnings
from collections.abc import Callable

import numpy as np
import polars as pl
from scipy.special import ndtri
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_limits

from benchmarks.common import BENCH_DIR, print_table
from benchmarks.worlds import benchmark_worlds, tuning_worlds, world_frames
from segmentation_pipeline.models.segmentation import clustering
from segmentation_pipeline.models.segmentation import encoding as enc

_TRAIT = {name: trait for name, _, _, trait in enc.NUMERIC_FEATURES}
_SOURCE_OF_TRAIT = {"service": "service", "social": "social", "age": "customer", "web_savviness": "customer",
                    "income": "customer", "importance": "survey", "satisfaction": "survey"}  # fmt: skip
_SOURCE_OF_INDICATOR = {"missing:survey": "survey", "missing:social": "social", "missing:age": "customer"}


def source_of(col: enc.EncodedColumn) -> str:
    if col.kind == "numeric":
        return _SOURCE_OF_TRAIT.get(_TRAIT[col.name], "orders")
    if col.kind == "missing":
        return _SOURCE_OF_INDICATOR[col.name]
    return "orders" if col.name.startswith("top_category=") else "survey"


def trait_of(col: enc.EncodedColumn) -> str:
    return _TRAIT[col.name] if col.kind == "numeric" else col.name.split("=")[0]


def _z(v: np.ndarray) -> np.ndarray:
    s = v.std()
    return (v - v.mean()) / s if s > 1e-12 else v * 0.0


def _rank(v: np.ndarray) -> np.ndarray:
    """Mid-rank percentile in (0, 1); ties share their mean rank."""
    order = np.argsort(v, kind="stable")
    _, start, counts = np.unique(v[order], return_index=True, return_counts=True)
    ranks = np.empty(len(v))
    ranks[order] = np.repeat(start + (counts - 1) / 2.0, counts)
    return (ranks + 0.5) / len(v)


def encode(
    buyers: pl.DataFrame,
    clip: float | None = 3.0,
    numeric: str = "z",
    weighting: str = "trait",
    onehot_z: bool = False,
    drop: tuple[str, ...] = (),
) -> tuple[np.ndarray, list[str]]:
    """(matrix, trait of each column): today's encoding with one thing changed."""
    cols = [dataclasses.replace(c, weight=1.0, clip=None) for c in clustering.learn_encoding(buyers)]
    cols = [c for c in cols if source_of(c) not in drop and trait_of(c) not in drop]
    x = buyers.select([c.expr() for c in cols]).to_numpy().astype(np.float64)
    for j, c in enumerate(cols):
        if c.kind == "numeric" or onehot_z:
            if numeric == "rank" and c.kind == "numeric":
                x[:, j] = _z(_rank(x[:, j]))
            elif numeric == "rankgauss" and c.kind == "numeric":
                x[:, j] = _z(ndtri(_rank(x[:, j])))
            elif c.kind != "numeric":
                x[:, j] = _z(x[:, j])
            if clip:
                x[:, j] = np.clip(x[:, j], -clip, clip)
        elif c.kind == "onehot":
            x[:, j] *= enc.ONE_HOT_WEIGHT
    traits = [trait_of(c) for c in cols]
    if weighting == "trait":  # as learn_encoding: 1/sqrt(columns of the trait), numeric columns only
        counts = {t: sum(1 for c in cols if c.kind == "numeric" and trait_of(c) == t) for t in traits}
        x *= np.array([1 / np.sqrt(counts[trait_of(c)]) if c.kind == "numeric" else 1.0 for c in cols])
    elif weighting in ("source", "trait_variance"):
        keys = [source_of(c) for c in cols] if weighting == "source" else traits
        for key in set(keys):
            idx = [j for j, k in enumerate(keys) if k == key]
            total = x[:, idx].var(axis=0).sum()
            if total > 1e-12:
                x[:, idx] /= np.sqrt(total)
    return x, traits


def parallel_analysis_pca(x: np.ndarray, copies: int = 3, sample: int = 5_000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    xc = x - x.mean(axis=0)
    s = xc[rng.permutation(len(xc))[:sample]]
    vals, vecs = np.linalg.eigh(np.cov(s, rowvar=False))
    vals, vecs = vals[::-1], vecs[:, ::-1]
    null = [np.linalg.eigvalsh(np.cov(np.column_stack([rng.permutation(c) for c in s.T]), rowvar=False))[::-1]
            for _ in range(copies)]  # fmt: skip
    above = vals > np.quantile(np.array(null), 0.95, axis=0)
    keep = max(2, len(vals) if above.all() else int(np.argmax(~above)))
    return xc @ vecs[:, :keep]


def dependence_weighted(x: np.ndarray, traits: list[str]) -> np.ndarray:
    """Each column times sqrt(R^2 of a linear fit from the columns of other traits), mean square weight 1."""
    z = (x - x.mean(axis=0)) / np.maximum(x.std(axis=0), 1e-12)
    t = np.array(traits)
    w = np.zeros(x.shape[1])
    for j in range(x.shape[1]):
        a = z[:, t != t[j]]
        coef, *_ = np.linalg.lstsq(a, z[:, j], rcond=None)
        w[j] = np.sqrt(max(0.0, 1 - ((z[:, j] - a @ coef) ** 2).mean() / max(z[:, j].var(), 1e-12)))
    return x * w / np.sqrt(np.mean(w**2))


def kmeans(x: np.ndarray, k: int, weights: np.ndarray | None = None) -> np.ndarray:
    xw = x if weights is None else x * weights
    return KMeans(k, n_init=5, random_state=42).fit(xw).labels_


def sparse_kmeans(x: np.ndarray, k: int, bound: float = 0.5, iters: int = 6) -> np.ndarray:
    """Witten & Tibshirani (2010): feature weights from the between-cluster sum of squares, ||w||_1 <= bound sqrt(p)."""
    z = (x - x.mean(axis=0)) / np.maximum(x.std(axis=0), 1e-12)
    p = z.shape[1]
    w = np.full(p, 1 / np.sqrt(p))
    s = bound * np.sqrt(p)
    labels = kmeans(z, k, np.sqrt(w))
    for _ in range(iters):
        within = sum(
            ((z[labels == g] - z[labels == g].mean(axis=0)) ** 2).sum(axis=0)
            for g in range(k)
            if (labels == g).any()
        )
        a = np.maximum((z**2).sum(axis=0) - within, 0.0)

        def weights(delta: float, a: np.ndarray = a) -> np.ndarray:
            soft = np.maximum(a - delta, 0.0)
            return soft / max(np.linalg.norm(soft), 1e-12)

        lo, hi = 0.0, float(a.max())
        if weights(0.0).sum() > s:
            for _ in range(50):
                lo, hi = ((lo + hi) / 2, hi) if weights((lo + hi) / 2).sum() > s else (lo, (lo + hi) / 2)
        w = weights(hi if weights(0.0).sum() > s else 0.0)
        labels = kmeans(z, k, np.sqrt(w))
    return labels


def oracle(x: np.ndarray, truth: np.ndarray, lda: bool) -> np.ndarray:
    x = x[:, x.std(axis=0) > 1e-9]
    groups = [x[truth == g] for g in np.unique(truth)]
    within = sum((g - g.mean(axis=0)).T @ (g - g.mean(axis=0)) for g in groups) / len(x)
    if lda:
        vals, vecs = np.linalg.eigh(within + 1e-6 * np.eye(len(within)))
        return x @ vecs / np.sqrt(vals)
    between = sum(len(g) * (g.mean(axis=0) - x.mean(axis=0)) ** 2 for g in groups) / len(x)
    w = np.diag(within)
    return x / np.sqrt(w) * (between / w) ** 0.25


Variant = Callable[[pl.DataFrame, int, np.ndarray], np.ndarray]  # (buyers, K, truth) -> labels
VARIANTS: dict[str, Variant] = {
    "current": lambda b, k, t: kmeans(encode(b)[0], k),
    "noclip": lambda b, k, t: kmeans(encode(b, clip=None)[0], k),
    "clip2": lambda b, k, t: kmeans(encode(b, clip=2.0)[0], k),
    "clip5": lambda b, k, t: kmeans(encode(b, clip=5.0)[0], k),
    "clip8": lambda b, k, t: kmeans(encode(b, clip=8.0)[0], k),
    "rank": lambda b, k, t: kmeans(encode(b, numeric="rank")[0], k),
    "rankgauss": lambda b, k, t: kmeans(encode(b, numeric="rankgauss")[0], k),
    "w_none": lambda b, k, t: kmeans(encode(b, weighting="none")[0], k),
    "w_source": lambda b, k, t: kmeans(encode(b, weighting="source")[0], k),
    "w_trait": lambda b, k, t: kmeans(encode(b, weighting="trait_variance")[0], k),
    "drop_survey": lambda b, k, t: kmeans(encode(b, drop=("survey",))[0], k),
    "drop_topcat": lambda b, k, t: kmeans(encode(b, drop=("top_category",))[0], k),
    "onehot_z": lambda b, k, t: kmeans(encode(b, onehot_z=True)[0], k),
    "pca": lambda b, k, t: kmeans(parallel_analysis_pca(encode(b, clip=None)[0]), k),
    "dependence": lambda b, k, t: kmeans(dependence_weighted(*encode(b, clip=None)), k),
    "sparse": lambda b, k, t: sparse_kmeans(encode(b, clip=None)[0], k),
    "oracle_diag": lambda b, k, t: kmeans(oracle(encode(b, clip=None)[0], t, lda=False), k),
    "oracle_lda": lambda b, k, t: kmeans(oracle(encode(b, clip=None)[0], t, lda=True), k),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=30)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--held-out", action="store_true", help="the benchmark's worlds (seeds 1-20)")
    args = parser.parse_args()
    names = args.variants.split(",")
    results: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        specs = benchmark_worlds(min(args.worlds, 20)) if args.held_out else tuning_worlds(args.worlds)
        for spec in specs:
            features, truth = world_frames(spec, BENCH_DIR / "worlds")
            prepared = clustering.prepare_profile(features, keep_extra=False)
            buyers = prepared.filter(~clustering.is_prospect()).sort("customer_id")
            planted = buyers.select("customer_id").join(
                truth, on="customer_id", how="left", maintain_order="left"
            )
            planted = planted["archetype"].to_numpy().astype(str)
            rest = prepared.filter(clustering.is_prospect()).join(truth, on="customer_id")[
                "visible_archetype"
            ]
            everyone = np.concatenate([planted, rest.to_numpy().astype(str)])
            line = []
            for name in names:
                labels = VARIANTS[name](buyers, spec.archetypes, planted)
                assigned = np.concatenate([labels + 1, np.zeros(len(rest), dtype=int)])
                results[name].append(
                    (adjusted_rand_score(planted, labels), adjusted_rand_score(everyone, assigned))
                )
                line.append(f"{name} {results[name][-1][0]:.3f}/{results[name][-1][1]:.3f}")
            print(f"{spec.name}: " + "; ".join(line), flush=True)
    rows = []
    for name, pairs in results.items():
        b, e = [p[0] for p in pairs], [p[1] for p in pairs]
        rows.append((name, f"{statistics.median(b):.3f}", f"{min(b):.3f}", f"{np.mean(b):.3f}",
                     f"{statistics.median(e):.3f}", f"{min(e):.3f}", f"{np.mean(e):.3f}"))  # fmt: skip
    print_table(
        f"{len(results[names[0]])} {'held-out' if args.held_out else 'tuning'} worlds, k-means at the true K: ARI per encoding",
        rows,
        (
            "encoding",
            "buyers median",
            "buyers worst",
            "buyers mean",
            "everyone median",
            "everyone worst",
            "everyone mean",
        ),
    )


if __name__ == "__main__":
    main()
