"""The number of segments: silhouette relative to shuffled copies; and the sub-cluster tree (model "tree").

k-means at k itself prefers splitting a large, spread archetype to separating a small one (the
within sum of squares drops more), so it merged small archetypes at every k on the tuning worlds.
Here k-means only cuts the buyers into `subclusters` (100) small, tight pieces; Ward's criterion
then merges the two pieces whose union raises the within sum of squares least, weighted by their
sizes, down to one group. Every k of the search is a cut of that one tree (a small archetype
far from the rest stays apart until the end), which is also far cheaper than a k-means per k.
For the tree, the number of segments is the k whose silhouette most exceeds what the same procedure
reaches on copies of the sample with every column shuffled on its own (no segments); for k-means
at every k (the default), the k with the highest silhouette / null silhouette.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import pairwise_distances
from threadpoolctl import threadpool_limits

from segmentation_pipeline.models.segmentation.model import SegmentationConfig


def silhouette_from_distances(distances: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette from a precomputed distance matrix (computed once, reused for every k).

    The same value as scikit-learn's `silhouette_score(distances, labels, metric="precomputed")`
    (tests/unit/test_clustering.py checks it), written as one matrix product: the k search calls
    it about 76 times per fit, and scikit-learn's row-chunked version took 4-8x as long on the
    5,000-point sample (benchmarks/README.md, "Figures behind the code").
    """
    n = labels.shape[0]
    k = int(labels.max()) + 1 if n else 0
    if n < 3 or np.unique(labels).shape[0] < 2:
        return float("nan")
    onehot = np.zeros((n, k), dtype=distances.dtype)
    onehot[np.arange(n), labels] = 1.0
    sums = distances @ onehot  # sum of the distances from each point to each cluster's points
    sizes = onehot.sum(axis=0)
    own = sizes[labels]
    a = sums[np.arange(n), labels] / np.maximum(own - 1, 1)
    mean_to = sums / np.maximum(sizes, 1)
    mean_to[np.arange(n), labels] = np.inf
    mean_to[:, sizes == 0] = np.inf
    b = mean_to.min(axis=1)
    s = np.where(own > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)  # a singleton scores 0
    return float(s.mean())


def ward_merges(centroids: np.ndarray, sizes: np.ndarray) -> dict[int, np.ndarray]:
    """Weighted Ward agglomeration of sub-clusters: for every number of groups g, the group of each sub-cluster.

    Merging a and b raises the within sum of squares by n_a n_b / (n_a + n_b) |c_a - c_b|^2; the
    cheapest pair is merged at each step. Group labels are 0..g-1, in order of first sub-cluster.
    """
    m = centroids.shape[0]
    c = centroids.astype(np.float64).copy()
    n = np.maximum(sizes.astype(np.float64), 1e-9)
    active = np.ones(m, dtype=bool)
    owner = np.arange(m)  # sub-cluster -> the sub-cluster that now represents its group
    sq = ((c[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
    parts = {m: np.arange(m)}
    for groups in range(m - 1, 0, -1):
        cost = n[:, None] * n[None, :] / (n[:, None] + n[None, :]) * sq
        cost[~active, :] = np.inf
        cost[:, ~active] = np.inf
        np.fill_diagonal(cost, np.inf)
        a, b = np.unravel_index(int(np.argmin(cost)), cost.shape)
        c[a] = (n[a] * c[a] + n[b] * c[b]) / (n[a] + n[b])
        n[a] += n[b]
        active[b] = False
        owner[owner == b] = a
        sq[a] = ((c - c[a]) ** 2).sum(axis=1)
        sq[:, a] = sq[a]
        parts[groups] = np.unique(owner, return_inverse=True)[1]
    return parts


def subcluster_tree(
    x: np.ndarray, config: SegmentationConfig, warm: np.ndarray | None = None
) -> tuple[KMeans, dict[int, np.ndarray]]:
    """k-means into min(subclusters, distinct rows) sub-clusters, and the Ward merges of them."""
    m = min(config.subclusters, x.shape[0])
    km = fit_kmeans(x, m, warm, config.subcluster_n_init, config.search_max_iter, config.random_state)
    return km, ward_merges(km.cluster_centers_, np.bincount(km.labels_, minlength=km.n_clusters))


def null_grid(ks: range, points: int) -> list[int]:
    """The k at which the null is fitted: `points` of `ks`, spaced evenly in log k (both ends kept).

    The null silhouette falls smoothly with k, so a few fitted k and interpolation in log k give
    the rest; k-means costs grow with k, so the grid thins out where fits are dearest.
    """
    if points <= 0 or points >= len(ks):
        return list(ks)
    grid = np.unique(np.round(np.geomspace(ks.start, ks.stop - 1, points)).astype(int))
    return [int(k) for k in grid]


def null_silhouettes(x: np.ndarray, ks: range, config: SegmentationConfig) -> dict[int, float]:
    """Mean silhouette, per k, of the model (k-means at k, or the sub-cluster tree cut at k) on copies of `x` with columns shuffled.

    Each column keeps its distribution (zero-inflated shares, 0/1 answers) but no structure links
    the columns, so this is what the silhouette reaches at each k on data without segments.
    k-means runs at the `null_grid_points` k of `null_grid` only (linear in log k between them);
    the tree's cuts cost nothing, so it has every k.
    """
    rng = np.random.default_rng([config.random_state, 7])
    fitted = list(ks) if config.model == "tree" else null_grid(ks, config.null_grid_points)
    totals = dict.fromkeys(fitted, 0.0)
    with threadpool_limits(limits=1):  # this thread's own OpenMP setting (the caller's does not carry over)
        for _ in range(config.null_copies):
            shuffled = np.ascontiguousarray(
                np.column_stack([rng.permutation(col) for col in x.T]), dtype=np.float32
            )
            distances = pairwise_euclidean(shuffled)
            if config.model == "tree":
                km, parts = subcluster_tree(shuffled, config)
            for k in fitted:
                if config.model == "tree":
                    labels = parts[k][km.labels_] if k in parts else km.labels_
                else:
                    labels = fit_kmeans(
                        shuffled, k, None, config.null_n_init, config.search_max_iter, config.random_state
                    ).labels_
                totals[k] += silhouette_from_distances(distances, labels) / config.null_copies
    if len(fitted) == len(ks):
        return totals
    at = np.log(np.asarray(fitted, dtype=np.float64))
    values = np.asarray([totals[k] for k in fitted])
    return {k: totals[k] if k in totals else float(np.interp(np.log(k), at, values)) for k in ks}


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
