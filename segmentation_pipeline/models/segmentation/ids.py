"""Stable segment ids across refits: matching new clusters to the previous centroids or customers."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from scipy.optimize import linear_sum_assignment

from segmentation_pipeline.models.segmentation.model import PROSPECT_SEGMENT_ID


def align_segment_ids(
    new_centroids: np.ndarray,
    previous_centroids: np.ndarray,
    previous_ids: list[int],
    next_id: int,
    max_distance: float,
    order: list[int] | None = None,
) -> tuple[list[int], int]:
    """Segment ids for new centroids: Hungarian matching to the previous ones, within max_distance.

    Matched centroids keep the previous id; the others get fresh ids from next_id, in `order`
    (default: centroid order). Ids never matched are retired: next_id only grows, so they are
    never reused. Returns (ids aligned with new_centroids, new next_id).
    """
    k = new_centroids.shape[0]
    ids: list[int | None] = [None] * k
    if previous_centroids.shape[0] and k:
        cost = np.sqrt(((new_centroids[:, None, :] - previous_centroids[None, :, :]) ** 2).sum(axis=2))
        rows, cols = linear_sum_assignment(cost)
        for r, c in zip(rows, cols, strict=True):
            if cost[r, c] <= max_distance:
                ids[r] = previous_ids[c]
    for r in order if order is not None else range(k):
        if ids[r] is None:
            ids[r] = next_id
            next_id += 1
    return [int(i) for i in ids], next_id  # type: ignore[arg-type]


def previous_k_of(assignment: pl.DataFrame | None) -> int | None:
    if assignment is None:
        return None
    return assignment.filter(pl.col("segment_id") != PROSPECT_SEGMENT_ID).get_column("segment_id").n_unique()


def previous_segment_ids(previous_assignment: pl.DataFrame) -> list[int]:
    """The previous assignment's segment ids, prospects' left out, in order."""
    previous = previous_assignment.filter(pl.col("segment_id") != PROSPECT_SEGMENT_ID)
    return sorted(previous.get_column("segment_id").unique().to_list())


def overlap_counts(
    customer_ids: pl.Series, labels: np.ndarray, previous_assignment: pl.DataFrame
) -> pl.DataFrame:
    """Customers per (label, previous_segment_id): the new clusters against the previous segments."""
    previous = previous_assignment.filter(pl.col("segment_id") != PROSPECT_SEGMENT_ID)
    return (
        pl.DataFrame({"customer_id": customer_ids, "label": labels})
        .join(
            previous.select("customer_id", pl.col("segment_id").alias("previous_segment_id")),
            on="customer_id",
        )
        .group_by("label", "previous_segment_id")
        .len("customers")
    )


def align_by_overlap(
    customer_ids: pl.Series, labels: np.ndarray, previous_assignment: pl.DataFrame, order: list[int]
) -> tuple[list[int], int]:
    """Segment ids for new clusters from the customers they share with the previous segments
    (`align_by_overlap_counts` on this assignment's overlap)."""
    k = int(labels.max()) + 1 if labels.size else 0
    counts = overlap_counts(customer_ids, labels, previous_assignment)
    return align_by_overlap_counts(counts, previous_segment_ids(previous_assignment), k, order)


def align_by_overlap_counts(
    counts: pl.DataFrame, previous_ids: list[int], k: int, order: list[int]
) -> tuple[list[int], int]:
    """Segment ids for `k` new clusters from `counts` [label, previous_segment_id, customers].

    Hungarian matching on the overlap counts; a pair is accepted when most of the new cluster's
    returning customers came from that segment. Others get ids above every previous id (ids retired
    before the previous run are unknown here: keep the model to guarantee they are never reused).
    """
    ids: list[int | None] = [None] * k
    if counts.height and k:
        overlap = np.zeros((k, len(previous_ids)))
        column = {sid: j for j, sid in enumerate(previous_ids)}
        for row in counts.iter_rows(named=True):
            overlap[row["label"], column[row["previous_segment_id"]]] = row["customers"]
        rows, cols = linear_sum_assignment(-overlap)
        for r, c in zip(rows, cols, strict=True):
            if overlap[r, c] > 0.5 * overlap[r].sum():
                ids[r] = previous_ids[c]
    next_id = max(previous_ids, default=0) + 1
    for r in order:
        if ids[r] is None:
            ids[r] = next_id
            next_id += 1
    return [int(i) for i in ids], next_id  # type: ignore[arg-type]


def median_pairwise_distance(centroids: np.ndarray) -> float:
    k = centroids.shape[0]
    if k < 2:
        return math.inf  # a single centroid matches whatever single previous one is closest
    d = np.sqrt(((centroids[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2))
    return float(np.median(d[np.triu_indices(k, 1)]))
