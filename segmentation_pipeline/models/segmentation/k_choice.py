"""The number of segments: silhouette of each k relative to k-means on shuffled copies (no segments)."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import pairwise_distances, silhouette_score
from threadpoolctl import threadpool_limits

from segmentation_pipeline.models.segmentation.model import SegmentationConfig


def silhouette_from_distances(distances: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette from a precomputed distance matrix (computed once, reused for every k)."""
    if labels.shape[0] < 3 or np.unique(labels).shape[0] < 2:
        return float("nan")
    return float(silhouette_score(distances, labels, metric="precomputed"))


def null_silhouettes(x: np.ndarray, ks: range, config: SegmentationConfig) -> dict[int, float]:
    """Mean silhouette, per k, of k-means on copies of `x` whose columns are shuffled independently.

    Each column keeps its distribution (zero-inflated shares, 0/1 answers) but no structure links
    the columns, so this is what the silhouette reaches at each k on data without segments.
    """
    rng = np.random.default_rng([config.random_state, 7])
    totals = dict.fromkeys(ks, 0.0)
    with threadpool_limits(limits=1):  # this thread's own OpenMP setting (the caller's does not carry over)
        _null_fits(x, ks, config, rng, totals)
    return totals


def _null_fits(
    x: np.ndarray, ks: range, config: SegmentationConfig, rng: np.random.Generator, totals: dict[int, float]
) -> None:
    for _ in range(config.null_copies):
        shuffled = np.ascontiguousarray(
            np.column_stack([rng.permutation(col) for col in x.T]), dtype=np.float32
        )
        distances = pairwise_euclidean(shuffled)
        for k in ks:
            labels = fit_kmeans(
                shuffled, k, None, config.null_n_init, config.search_max_iter, config.random_state
            ).labels_
            totals[k] += silhouette_from_distances(distances, labels) / config.null_copies


def pairwise_euclidean(x: np.ndarray) -> np.ndarray:
    """Euclidean distances between the rows of `x` (float32: 5,000 rows take 100 MB)."""
    return pairwise_distances(x.astype(np.float64)).astype(np.float32)


def fit_kmeans(
    x: np.ndarray, k: int, warm: np.ndarray | None, n_init: int, max_iter: int, seed: int
) -> KMeans:
    """k-means warm-started from the previous centroids when k is unchanged (keeps the refit close)."""
    warm_start = warm is not None and warm.shape[0] == k
    km = KMeans(
        n_clusters=k,
        init=warm.astype(x.dtype) if warm_start else "k-means++",
        n_init=1 if warm_start else n_init,
        max_iter=max_iter,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate points / early stop are fine here
        return km.fit(x)
