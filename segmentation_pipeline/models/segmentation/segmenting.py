"""Behavioural segments: fit with the choice of k, daily reuse, refit on cadence or drift, stable ids.

Design, in short:
- Prospects (no counted order) get the reserved segment 0: they have no purchase behaviour
  (recency, channel shares, basket are undefined), so clustering them would spend one of the k
  on a trivial group and distort scaling and silhouette. Buyers are clustered.
- Features (encoding.py): log1p for money and counts, square root for recency, shares as they
  are, ordered answers as ordinals, survey answers one-hot, then standard scores clipped to +-3. Every trait weighs the same: the columns that measure one trait
  together (the three channel shares, the three social columns, the five importances) share its
  weight (1/sqrt(columns) each). Missing values are imputed (zero where absence means "none": no
  ticket, no social account; median otherwise) and missing indicators say who answered the survey
  or has social data, so nobody is dropped. A source that is entirely null gives constant columns,
  which do not move any distance.
- Fit sample: the `fit_sample_size` buyers with the smallest seeded hash of their id (stable from
  day to day); silhouette on `silhouette_sample_size` of them. k is chosen in [k_min, k_max] by
  the silhouette relative to a null, among the k whose smallest segment holds at least
  `min_segment_share` of the sample (none eligible: the most balanced k). The null is the same
  silhouette sample with every column shuffled on its own (`null_copies` copies; marginals kept,
  joint structure gone), clustered at the same k: the score is silhouette / null silhouette. A raw
  silhouette favours k = 2 whenever one group sits far from the rest, and k-means on structureless
  data of this dimension scores 0.05 at k = 2 and 0.035 at k = 20 anyway; relative to that null the
  choice was better on the tuning worlds (benchmarks/tune_segment_k.py, README). The null fits
  share two worker threads with the per-k fits of the data search; the null is fitted at
  `null_grid_points` k and interpolated between them (at every k it was 56% of the fit's CPU, see
  model.py). Each k of the search gets `search_n_init` k-means restarts: the silhouette judges the partition k-means found, and with too few restarts a
  poor local optimum at one k (or a lucky one at k = 2) decides the choice. At a refit the previous
  k is kept unless another's score is more than `k_hysteresis` (a fraction) higher. Fewer than
  `min_buyers_to_cluster` buyers: one segment.
- `SegmentationConfig(model="tree")` fits instead k-means into `subclusters` (100) sub-clusters
  merged by weighted Ward (k_choice.py): every k is a cut of that tree, k is the cut whose
  silhouette most exceeds the shuffled copies' put through the same procedure, and a buyer
  belongs to the segment of its nearest sub-centroid (the model keeps them; a refit starts from
  them). It scored better than k-means on the tuning worlds' worst case and worse on the held-out
  benchmark (README), so it is not the default.
- Daily runs reuse the persisted `SegmentModel` (no refit) unless the refit cadence is due
  (`refit_every_days`, default 7) or drift passes a threshold. Drift = relative increase of the
  buyers' mean distance to their assigned centroid since the fit (default 0.25), or total
  variation distance between today's segment shares and the fit-time shares (default 0.10).
- A refit is warm-started from the previous centroids (mapped into the new scaling) when k is
  unchanged, and aligned to the previous segments by Hungarian matching of centroids, accepted
  within `match_relative_cutoff` x the median distance between the new centroids: matched
  segments keep their id, new ones get ids from `next_id` (biggest first), and ids of segments
  that disappear are retired for good (`next_id` only grows; 0 is never issued).
- Deterministic for a seed, whatever the input row order.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date

import numpy as np
import polars as pl
from sklearn.cluster import KMeans
from sklearn.metrics import (
    adjusted_rand_score,
)
from threadpoolctl import threadpool_limits

from segmentation_pipeline.models.segmentation.encoding import (
    is_prospect,
    learn_encoding,
    map_centroids,
    prepare_profile,
)
from segmentation_pipeline.models.segmentation.ids import (
    align_by_overlap,
    align_segment_ids,
    median_pairwise_distance,
    previous_k_of,
)
from segmentation_pipeline.models.segmentation.k_choice import (
    fit_kmeans,
    null_silhouettes,
    pairwise_euclidean,
    silhouette_from_distances,
    subcluster_tree,
)
from segmentation_pipeline.models.segmentation.model import (
    MODEL_VERSION,
    PROSPECT_SEGMENT_ID,
    SegmentationConfig,
    SegmentationResult,
    SegmentModel,
    nearest_in_chunks,
)


def _fit_model(
    buyers: pl.DataFrame,
    previous: SegmentModel | None,
    previous_assignment: pl.DataFrame | None,
    as_of: date,
    config: SegmentationConfig,
) -> tuple[SegmentModel, np.ndarray, np.ndarray]:
    """Choose k and fit on a sample (k-means, or the cuts of the sub-cluster tree), align ids with the previous model.

    Without a previous model but with the previous assignment (model lost or reset), ids are aligned
    by overlap of customers instead. Returns the model and, for every buyer, its segment id and
    distance to its centroid.
    """
    rng = np.random.default_rng(config.random_state)
    n = buyers.height
    # The fit sample is the customers with the smallest seeded hash of their id: from one day to the
    # next it keeps the same customers (plus the few new ones that hash low), which keeps refits close.
    ranks = (
        buyers.select(pl.col("customer_id").hash(seed=config.random_state).arg_sort()).to_series().to_numpy()
    )
    sample = buyers[np.sort(ranks[: config.fit_sample_size])].sort("customer_id")  # input order is irrelevant
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
        previous_k = previous.k if previous is not None else previous_k_of(previous_assignment)
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

    if subcentroids.shape[0]:
        sub_labels, dist = nearest_in_chunks(buyers, columns, subcentroids.astype(np.float32))
        labels = subsegments[sub_labels]
    else:
        labels, dist = nearest_in_chunks(buyers, columns, centroids.astype(np.float32))
    sizes = np.bincount(labels, minlength=centroids.shape[0])
    order = sorted(range(centroids.shape[0]), key=lambda i: (-sizes[i], i))  # new ids: biggest first
    prev_ids = previous.segment_ids if previous is not None and warm is not None else []
    max_distance = config.match_relative_cutoff * median_pairwise_distance(centroids)
    if previous is None and previous_assignment is not None:
        ids, next_id = align_by_overlap(buyers.get_column("customer_id"), labels, previous_assignment, order)
    else:
        ids, next_id = align_segment_ids(
            centroids,
            warm if warm is not None else np.zeros((0, len(columns))),
            prev_ids,
            previous.next_id if previous is not None else 1,
            max_distance,
            order,
        )
    model = SegmentModel(
        columns=columns,
        centroids=np.round(centroids, 6).tolist(),
        segment_ids=ids,
        next_id=next_id,
        fitted_at=as_of.isoformat(),
        k=centroids.shape[0],
        k_scores=k_scores,
        k_silhouette=k_silhouette,
        k_null_silhouette={k: round(v, 6) for k, v in k_null.items()},
        k_min_share={k: round(v, 6) for k, v in k_min_share.items()},
        subcentroids=np.round(subcentroids, 6).tolist(),
        subsegments=[int(g) for g in subsegments],
        fit_mean_distance=float(dist.mean()) if n else 0.0,
        fit_shares={ids[i]: float(sizes[i] / max(n, 1)) for i in range(len(ids))},
        random_state=config.random_state,
    )
    return model, np.asarray(ids, dtype=np.int64)[labels] if ids else np.zeros(n, dtype=np.int64), dist


def _share_shift(segment_ids: np.ndarray, fit_shares: dict[int, float]) -> float:
    if segment_ids.shape[0] == 0:
        return 0.0
    ids, counts = np.unique(segment_ids, return_counts=True)
    today = dict(zip(ids.tolist(), (counts / counts.sum()).tolist(), strict=True))
    keys = set(today) | set(fit_shares)
    return 0.5 * sum(abs(today.get(k, 0.0) - fit_shares.get(k, 0.0)) for k in keys)


def adjusted_rand_vs_previous(current: pl.DataFrame, previous: pl.DataFrame | None) -> float | None:
    """Adjusted Rand index of two assignments [customer_id, segment_id] on the customers in both."""
    if previous is None or previous.height == 0 or current.height == 0:
        return None
    both = current.select("customer_id", "segment_id").join(
        previous.select("customer_id", pl.col("segment_id").alias("previous_segment_id")), on="customer_id"
    )
    if both.height < 2:
        return None
    return float(adjusted_rand_score(both.get_column("previous_segment_id"), both.get_column("segment_id")))


def _refit_reason(
    previous: SegmentModel | None, as_of: date, config: SegmentationConfig
) -> str | None:  # None: reuse is allowed, subject to drift
    if previous is None:
        return "first fit: no previous model"
    if config.force_refit:
        return "refit forced by configuration"
    if previous.version != MODEL_VERSION:
        return f"model version {previous.version} != {MODEL_VERSION}"
    if previous.k == 0:
        return "previous model had no buyers"
    age = (as_of - date.fromisoformat(previous.fitted_at)).days
    if age >= config.refit_every_days or age < 0:
        return f"cadence: model fitted {age} days ago (refit every {config.refit_every_days} days)"
    return None


def segment_customers(
    profile: pl.DataFrame,
    previous: SegmentModel | None,
    previous_assignment: pl.DataFrame | None,
    as_of: date,
    config: SegmentationConfig | None = None,
) -> SegmentationResult:
    """Assign every customer of the profile to a behavioural segment (prospects: segment 0).

    Reuses `previous` when it is young enough and has not drifted; otherwise refits (warm-started,
    ids aligned). `previous_assignment` [customer_id, segment_id] gives the ARI, and aligns ids by
    overlap of customers when there is no previous model.
    """
    config = config or SegmentationConfig()
    prepared = prepare_profile(profile, keep_extra=False)
    buyers = prepared.filter(~is_prospect())
    prospects = prepared.filter(is_prospect())

    reason = _refit_reason(previous, as_of, config)
    drift = share_shift = 0.0
    segment_ids = np.zeros(0, dtype=np.int64)
    if reason is None:
        assert previous is not None
        segment_ids, distances = previous.assign(buyers)
        mean_distance = float(distances.mean()) if buyers.height else 0.0
        drift = mean_distance / previous.fit_mean_distance - 1.0 if previous.fit_mean_distance > 0 else 0.0
        share_shift = _share_shift(segment_ids, previous.fit_shares)
        if drift > config.drift_threshold:
            reason = f"drift: mean distance to centroid +{drift:.1%} (threshold {config.drift_threshold:.0%})"
        elif share_shift > config.share_shift_threshold:
            reason = f"drift: segment shares moved {share_shift:.1%} (threshold {config.share_shift_threshold:.0%})"
    refitted = reason is not None
    if refitted:
        # One thread: k-means on a 20k sample gains little from threads, and on a busy machine
        # (parallel tests, other jobs) OpenMP oversubscription made it 5-10x slower.
        with threadpool_limits(limits=1):
            model, segment_ids, distances = _fit_model(buyers, previous, previous_assignment, as_of, config)
        reason = f"refit ({reason}); k={model.k}"
    else:
        model = previous  # type: ignore[assignment]
        reason = f"reused model fitted {model.fitted_at}: drift {drift:+.1%}, share shift {share_shift:.1%}"

    assignment = pl.concat(
        [
            pl.DataFrame({"customer_id": buyers.get_column("customer_id"), "segment_id": segment_ids}),
            prospects.select("customer_id", pl.lit(PROSPECT_SEGMENT_ID, dtype=pl.Int64).alias("segment_id")),
        ]
    ).sort("customer_id")
    return SegmentationResult(
        assignment=assignment,
        model=model,
        k_scores=dict(model.k_scores),
        refitted=refitted,
        reason=reason,
        ari_vs_previous=adjusted_rand_vs_previous(assignment, previous_assignment),
        drift=drift,
        share_shift=share_shift,
    )


def attach_segments(profile: pl.DataFrame, assignment: pl.DataFrame) -> pl.DataFrame:
    """The prepared profile with its segment_id (a prospect missing from the assignment gets 0)."""
    prepared = prepare_profile(profile)
    if "segment_id" in prepared.columns:
        prepared = prepared.drop("segment_id")
    joined = prepared.join(assignment.select("customer_id", "segment_id"), on="customer_id", how="left")
    return joined.with_columns(
        pl.when(pl.col("segment_id").is_null() & is_prospect())
        .then(PROSPECT_SEGMENT_ID)
        .otherwise(pl.col("segment_id"))
        .cast(pl.Int64)
        .alias("segment_id")
    )
