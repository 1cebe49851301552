"""A refit in two halves: the candidate fitted on a hash sample, then its ids from every buyer's counts.

Why two halves (and not one function over every buyer): in DuckLake mode the buyers are spread
over several steps, and no step may hold them all (10M customers on a 24 GB machine). Everything
a refit needs of the whole base is small and summable over buckets: the fit sample (the buyers
with the smallest seeded hash of their id, chosen from a stream of ids), the number of buyers,
and, once each buyer is assigned to the candidate, the buyers and summed distance per segment
(`Usage`) and the overlap with the previous assignment (`Overlap`). The DuckDB file runs both
halves in one step over one frame (segmenting.py) and gets the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import polars as pl
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from segmentation_pipeline.models.segmentation.encoding import learn_encoding, map_centroids
from segmentation_pipeline.models.segmentation.ids import (
    align_by_overlap_counts,
    align_segment_ids,
    median_pairwise_distance,
)
from segmentation_pipeline.models.segmentation.k_choice import (
    fit_kmeans,
    null_silhouettes,
    pairwise_euclidean,
    silhouette_from_distances,
    subcluster_tree,
)
from segmentation_pipeline.models.segmentation.model import SegmentationConfig, SegmentModel


def fit_sample_ids(batches: Iterable[pl.Series], size: int, seed: int) -> pl.Series:
    """The `size` buyer ids with the smallest seeded hash, from batches of ids (memory: `size` ids).

    The smallest hashes, not a random draw: from one day to the next the sample keeps the same
    customers (plus the few new ones that hash low), which keeps refits close; and a stream of ids
    gives the same sample as the whole column at once, so every mode fits on the same buyers.
    """
    best = pl.DataFrame(schema={"customer_id": pl.String, "hash": pl.UInt64})
    for ids in batches:
        hashed = (
            ids.cast(pl.String)
            .to_frame("customer_id")
            .with_columns(hash=pl.col("customer_id").hash(seed=seed))
        )
        best = pl.concat([best, hashed]).bottom_k(size, by="hash")
    return best.get_column("customer_id")


def fit_sample(buyers: pl.DataFrame, config: SegmentationConfig) -> pl.DataFrame:
    """The prepared buyers of the fit sample, by customer_id (the input's order is irrelevant)."""
    ids = fit_sample_ids([buyers.get_column("customer_id")], config.fit_sample_size, config.random_state)
    return buyers.filter(pl.col("customer_id").is_in(ids.implode())).sort("customer_id")


def fit_candidate(
    sample: pl.DataFrame,
    n_buyers: int,
    previous: SegmentModel | None,
    previous_k: int | None,
    as_of: date,
    config: SegmentationConfig,
) -> SegmentModel:
    """Choose k and fit on the sample (k-means, or the cuts of the sub-cluster tree): the candidate model.

    `sample` is `fit_sample`'s (prepared buyers), `n_buyers` the count of every buyer, `previous_k`
    the previous k (the model's, or the previous assignment's when the model is lost) for the
    hysteresis. The candidate's segment ids are provisional (1..k, `PROVISIONAL` order) and its
    centroids unrounded: `finish_model` gives the final ones once every buyer is assigned to it.
    """
    rng = np.random.default_rng(config.random_state)
    n = n_buyers
    columns = learn_encoding(sample, config.top_categories)
    x_fit = np.ascontiguousarray(sample.select([c.expr() for c in columns]).to_numpy(), dtype=np.float32)
    warm = map_centroids(previous, columns) if previous is not None and previous.k > 0 else None
    # The sub-clustering starts from the previous sub-centroids (mapped into the new scaling): it keeps the refit close.
    warm_sub = (
        map_centroids(previous, columns, previous.subcentroids)
        if warm is not None and previous.subcentroids
        else None
    )  # type: ignore[union-attr]

    n_distinct = np.unique(x_fit, axis=0).shape[0]
    k_hi = min(config.k_max, n_distinct - 1) if n >= config.min_buyers_to_cluster else 0
    k_scores: dict[int, float] = {}
    k_silhouette: dict[int, float] = {}
    k_null: dict[int, float] = {}
    k_min_share: dict[int, float] = {}
    subcentroids = np.zeros((0, len(columns)))
    subsegments = np.zeros(0, dtype=np.int64)
    if k_hi >= config.k_min:
        sil_idx = rng.permutation(x_fit.shape[0])[: config.silhouette_sample_size]
        distances = pairwise_euclidean(x_fit[sil_idx])  # once, reused for every k
        sub_config = replace(config, subclusters=min(config.subclusters, n_distinct))
        ks = (
            range(config.k_min, min(k_hi, sub_config.subclusters) + 1)
            if config.model == "tree"
            else range(config.k_min, k_hi + 1)
        )
        fits: dict[int, KMeans] = {}

        def search_fit(k: int) -> tuple[KMeans, float]:
            """A short k-means at k (only the chosen k gets the full n_init) and its silhouette."""
            with threadpool_limits(limits=1):  # a worker thread's own OpenMP setting
                km = fit_kmeans(
                    x_fit, k, warm, config.search_n_init, config.search_max_iter, config.random_state
                )
                return km, silhouette_from_distances(distances, km.labels_[sil_idx])

        # Two worker threads share the null and the per-k fits (k-means and the matrix products
        # release the GIL), dearest k first. On this project's 2-vCPU machine the fit took 10.2 s
        # against 11.7 s with the null alone in a second thread (medians, two worlds, 2026-12-01);
        # the whole job's wall time did not change measurably. Every fit is seeded on its own, so
        # the result does not depend on the order.
        with ThreadPoolExecutor(max_workers=2) as pool:
            null = pool.submit(null_silhouettes, x_fit[sil_idx[: config.null_sample_size]], ks, sub_config)
            if config.model == "tree":
                sub_km, parts = subcluster_tree(x_fit, sub_config, warm_sub)
            else:
                searched = {k: pool.submit(search_fit, k) for k in sorted(ks, reverse=True)}
            for k in ks:
                if config.model == "tree":
                    labels = parts[k][sub_km.labels_]
                    silhouette = silhouette_from_distances(distances, labels[sil_idx])
                else:
                    fits[k], silhouette = searched[k].result()
                    labels = fits[k].labels_
                k_min_share[k] = float(np.bincount(labels, minlength=k).min() / labels.shape[0])
                k_silhouette[k] = round(silhouette, 6)
            k_null = null.result()
        for k in ks:
            if config.model == "tree":
                k_scores[k] = round(k_silhouette[k] - k_null[k], 6)
            else:
                k_scores[k] = round(k_silhouette[k] / k_null[k], 6) if k_null[k] > 0 else float("nan")
        eligible = [
            k for k in ks if k_min_share[k] >= config.min_segment_share and not math.isnan(k_scores[k])
        ]
        # No eligible k: take the most balanced one rather than fail the run.
        best_k = (
            max(eligible, key=lambda k: (k_scores[k], -k))
            if eligible
            else max(ks, key=lambda k: (k_min_share[k], -k))
        )
        # Hysteresis: keep the previous k unless another k is clearly better, so that two nearly
        # equal silhouettes do not make segments merge and split from one refit to the next.
        if previous_k in eligible:
            previous_score = k_scores[previous_k]
            margin = config.k_hysteresis * (
                abs(k_scores[best_k]) if config.model == "tree" else previous_score
            )
            if previous_score + margin >= k_scores[best_k]:
                best_k = previous_k
        if config.model == "tree":
            subcentroids, subsegments = sub_km.cluster_centers_, parts[best_k]
            fit_labels = subsegments[sub_km.labels_]
            centroids = np.stack([x_fit[fit_labels == g].mean(axis=0) for g in range(best_k)])
        else:
            final = fit_kmeans(x_fit, best_k, warm, config.n_init, 300, config.random_state)
            centroids = min(final, fits[best_k], key=lambda km: km.inertia_).cluster_centers_
    else:  # too few distinct buyers to split: one segment
        centroids = x_fit.mean(axis=0, keepdims=True) if x_fit.shape[0] else np.zeros((0, len(columns)))

    k = centroids.shape[0]
    return SegmentModel(
        columns=columns,
        # Unrounded (float32 values, as k-means gives them): buyers are assigned to these exactly.
        centroids=centroids.tolist(),
        segment_ids=provisional_ids(k),
        next_id=k + 1,
        fitted_at=as_of.isoformat(),
        k=k,
        k_scores=k_scores,
        k_silhouette=k_silhouette,
        k_null_silhouette={k: round(v, 6) for k, v in k_null.items()},
        k_min_share={k: round(v, 6) for k, v in k_min_share.items()},
        subcentroids=subcentroids.tolist(),
        subsegments=[int(g) for g in subsegments],
        random_state=config.random_state,
    )


def provisional_ids(k: int) -> list[int]:
    """A candidate's segment ids before `finish_model`: 1..k, the centroid index + 1 (0 stays the prospects')."""
    return list(range(1, k + 1))


@dataclass(frozen=True)
class Usage:
    """Buyers per assigned segment id and their summed distance to its centroid (summable over buckets)."""

    counts: dict[int, int]
    distance_sum: float

    @classmethod
    def of(cls, segment_ids: np.ndarray, distances: np.ndarray) -> Usage:
        ids, counts = np.unique(segment_ids, return_counts=True)
        return cls(dict(zip(ids.tolist(), counts.tolist(), strict=True)), float(distances.sum()))

    @classmethod
    def from_rows(cls, rows: pl.DataFrame) -> Usage:
        """The usage summed over `usage_rows` frames (e.g. every bucket's)."""
        total = rows.group_by("segment_id").agg(pl.col("customers").sum()).sort("segment_id")
        return cls(
            dict(zip(total["segment_id"].to_list(), total["customers"].to_list(), strict=True)),
            float(rows["distance_sum"].sum()),
        )

    @property
    def customers(self) -> int:
        return sum(self.counts.values())

    @property
    def mean_distance(self) -> float:
        return self.distance_sum / self.customers if self.customers else 0.0


def usage_rows(segment_ids: np.ndarray, distances: np.ndarray) -> pl.DataFrame:
    """[segment_id, customers, distance_sum] of some buyers: a bucket's share of the `Usage`."""
    return (
        pl.DataFrame({"segment_id": segment_ids.astype(np.int64), "distance": distances})
        .group_by("segment_id")
        .agg(customers=pl.len().cast(pl.Int64), distance_sum=pl.col("distance").sum())
    )


@dataclass(frozen=True)
class Overlap:
    """Customers shared by each candidate segment and each previous segment (prospects left out), and
    every previous segment id: what aligns ids when the previous model is lost."""

    counts: pl.DataFrame  # segment_id (the candidate's provisional id), previous_segment_id, customers
    previous_ids: list[int]


def finish_model(
    candidate: SegmentModel,
    usage: Usage,
    previous: SegmentModel | None,
    overlap: Overlap | None,
    config: SegmentationConfig,
) -> tuple[SegmentModel, dict[int, int]]:
    """The fitted model (ids aligned with the previous model, or by `overlap` without one; new ids
    biggest first) from the candidate and every buyer's `usage` of it; and provisional id -> final id.
    """
    columns, k = candidate.columns, candidate.k
    # float32, as k-means gave them: rounding and distances exactly as when the fit was one function.
    centroids = np.asarray(candidate.centroids, dtype=np.float32).reshape(k, len(columns))
    subcentroids = np.asarray(candidate.subcentroids, dtype=np.float32).reshape(-1, len(columns))
    sizes = np.array([usage.counts.get(i, 0) for i in provisional_ids(k)], dtype=np.int64)
    order = sorted(range(k), key=lambda i: (-sizes[i], i))  # new ids: biggest first
    warm = map_centroids(previous, columns) if previous is not None and previous.k > 0 else None
    if previous is None and overlap is not None:
        ids, next_id = align_by_overlap_counts(
            overlap.counts.with_columns(label=pl.col("segment_id") - 1), overlap.previous_ids, k, order
        )
    else:
        ids, next_id = align_segment_ids(
            centroids,
            warm if warm is not None else np.zeros((0, len(columns))),
            previous.segment_ids if previous is not None and warm is not None else [],
            previous.next_id if previous is not None else 1,
            config.match_relative_cutoff * median_pairwise_distance(centroids),
            order,
        )
    n = usage.customers
    model = replace(
        candidate,
        centroids=np.round(centroids, 6).tolist(),
        segment_ids=ids,
        next_id=next_id,
        subcentroids=np.round(subcentroids, 6).tolist(),
        fit_mean_distance=usage.mean_distance,
        fit_shares={ids[i]: float(sizes[i] / max(n, 1)) for i in range(len(ids))},
    )
    return model, dict(zip(provisional_ids(k), ids, strict=True))
