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
  or has social data (constant beside a social source, which counts no account as 0 followers:
  encoding.MISSING_INDICATORS says why it stays), so nobody is dropped. A source that is entirely
  null gives constant columns, which do not move any distance.
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

from collections.abc import Iterable
from datetime import date

import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits

from segmentation_pipeline.models.segmentation.encoding import is_prospect, prepare_profile
from segmentation_pipeline.models.segmentation.fitting import (
    Overlap,
    Usage,
    finish_model,
    fit_candidate,
    fit_sample,
)
from segmentation_pipeline.models.segmentation.ids import overlap_counts, previous_k_of, previous_segment_ids
from segmentation_pipeline.models.segmentation.model import (
    MODEL_VERSION,
    PROSPECT_SEGMENT_ID,
    SegmentationConfig,
    SegmentationResult,
    SegmentModel,
)


def _share_shift(counts: dict[int, int], fit_shares: dict[int, float]) -> float:
    total = sum(counts.values())
    if total == 0:
        return 0.0
    today = {segment_id: count / total for segment_id, count in counts.items()}
    keys = set(today) | set(fit_shares)
    return 0.5 * sum(abs(today.get(k, 0.0) - fit_shares.get(k, 0.0)) for k in keys)


def adjusted_rand_vs_previous(current: pl.DataFrame, previous: pl.DataFrame | None) -> float | None:
    """Adjusted Rand index of two assignments [customer_id, segment_id] on the customers in both."""
    if previous is None or previous.height == 0 or current.height == 0:
        return None
    pairs = (
        current.select("customer_id", "segment_id")
        .join(
            previous.select("customer_id", pl.col("segment_id").alias("previous_segment_id")),
            on="customer_id",
        )
        .group_by("previous_segment_id", "segment_id")
        .len("customers")
    )
    return adjusted_rand_from_counts(pairs.iter_rows())


def adjusted_rand_from_counts(pairs: Iterable[tuple[int, int, int]]) -> float | None:
    """Adjusted Rand index from (previous segment, segment, customers) counts; None under 2 customers.

    From the contingency table, as scikit-learn's `adjusted_rand_score` computes it (pair counts in
    exact integers), so the DuckLake commit gets it from a GROUP BY over every customer and the
    same figure as the DuckDB file.
    """
    pairs = [(a, b, int(n)) for a, b, n in pairs]
    n = sum(count for _, _, count in pairs)
    if n < 2:
        return None
    rows: dict[int, int] = {}
    columns: dict[int, int] = {}
    for a, b, count in pairs:
        rows[a] = rows.get(a, 0) + count
        columns[b] = columns.get(b, 0) + count
    sum_squares = sum(count * count for _, _, count in pairs)
    tp = sum_squares - n
    fp = sum(count * columns[b] for _, b, count in pairs) - sum_squares
    fn = sum(count * rows[a] for a, _, count in pairs) - sum_squares
    tn = n * n - fp - fn - sum_squares
    if fn == 0 and fp == 0:
        return 1.0
    return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))


def refit_reason(
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


def drift_reason(
    previous: SegmentModel, usage: Usage, config: SegmentationConfig
) -> tuple[str | None, float, float]:
    """Why the previous model must be refitted given every buyer's `usage` of it (None: reuse it),
    with the drift and the share shift."""
    mean_distance = usage.mean_distance
    drift = mean_distance / previous.fit_mean_distance - 1.0 if previous.fit_mean_distance > 0 else 0.0
    share_shift = _share_shift(usage.counts, previous.fit_shares)
    if drift > config.drift_threshold:
        return (
            f"drift: mean distance to centroid +{drift:.1%} (threshold {config.drift_threshold:.0%})",
            drift,
            share_shift,
        )
    if share_shift > config.share_shift_threshold:
        return (
            f"drift: segment shares moved {share_shift:.1%} (threshold {config.share_shift_threshold:.0%})",
            drift,
            share_shift,
        )
    return None, drift, share_shift


def refitted_reason(reason: str, model: SegmentModel) -> str:
    return f"refit ({reason}); k={model.k}"


def reused_reason(model: SegmentModel, drift: float, share_shift: float) -> str:
    return f"reused model fitted {model.fitted_at}: drift {drift:+.1%}, share shift {share_shift:.1%}"


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

    reason = refit_reason(previous, as_of, config)
    drift = share_shift = 0.0
    segment_ids = np.zeros(0, dtype=np.int64)
    if reason is None:
        assert previous is not None
        segment_ids, distances = previous.assign(buyers)
        reason, drift, share_shift = drift_reason(previous, Usage.of(segment_ids, distances), config)
    refitted = reason is not None
    if refitted:
        # One thread: k-means on a 10,000-buyer sample (`fit_sample_size`) gains little from threads, and on a busy machine
        # (parallel tests, other jobs) OpenMP oversubscription made it 5-10x slower.
        with threadpool_limits(limits=1):
            previous_k = previous.k if previous is not None else previous_k_of(previous_assignment)
            candidate = fit_candidate(
                fit_sample(buyers, config), buyers.height, previous, previous_k, as_of, config
            )
            provisional, distances = candidate.assign(buyers)
        overlap = (
            Overlap(
                overlap_counts(buyers.get_column("customer_id"), provisional, previous_assignment).rename(
                    {"label": "segment_id"}
                ),
                previous_segment_ids(previous_assignment),
            )
            if previous is None and previous_assignment is not None
            else None
        )
        model, final_ids = finish_model(
            candidate, Usage.of(provisional, distances), previous, overlap, config
        )
        segment_ids = (
            pl.Series(provisional).replace_strict(final_ids, return_dtype=pl.Int64).to_numpy()
            if provisional.size
            else provisional
        )
        reason = refitted_reason(reason, model)
    else:
        model = previous  # type: ignore[assignment]
        reason = reused_reason(model, drift, share_shift)

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
