"""The refit in two halves (fitting.py): what the DuckLake steps compute from buckets equals the one-step fit."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import adjusted_rand_score

from segmentation_pipeline.models.segmentation import clustering as c
from segmentation_pipeline.models.segmentation import fitting
from segmentation_pipeline.models.segmentation.segmenting import adjusted_rand_from_counts, drift_reason
from tests.unit.test_clustering import ARCHETYPES, AS_OF, FAST, blob_profile


def test_a_stream_of_ids_gives_the_sample_of_the_whole_column():
    ids = pl.Series([f"C{i:06d}" for i in range(5_000)])
    whole = fitting.fit_sample_ids([ids], 700, seed=42)
    streamed = fitting.fit_sample_ids([ids.slice(start, 333) for start in range(0, 5_000, 333)], 700, seed=42)
    assert whole.len() == 700
    assert sorted(streamed.to_list()) == sorted(whole.to_list())


def test_adjusted_rand_from_counts_is_scikit_learns():
    rng = np.random.default_rng(3)
    previous, current = rng.integers(0, 6, 2_000), rng.integers(0, 4, 2_000)
    current[:1_200] = previous[:1_200] % 4  # some agreement
    pairs = pl.DataFrame({"a": previous, "b": current}).group_by("a", "b").len().iter_rows()
    assert adjusted_rand_from_counts(pairs) == adjusted_rand_score(previous, current)
    assert adjusted_rand_from_counts([(1, 2, 1)]) is None
    assert adjusted_rand_from_counts([(1, 2, 5), (3, 4, 7)]) == 1.0


def _bucketed(buyers: pl.DataFrame, model: c.SegmentModel, buckets: int = 3) -> fitting.Usage:
    """Every buyer assigned with `model` bucket by bucket, their usage rows summed (as the lake commit sums them)."""
    rows = []
    for index in range(buckets):
        part = buyers.filter(pl.col("customer_id").hash(seed=1) % buckets == index)
        segment_ids, distances = model.assign(part)
        rows.append(fitting.usage_rows(segment_ids, distances))
    return fitting.Usage.from_rows(pl.concat(rows))


@pytest.mark.parametrize("model", ["kmeans", "tree"])
def test_a_refit_from_bucket_usage_gives_the_one_step_model(model):
    config = FAST if model == "kmeans" else c.SegmentationConfig(k_max=8, model="tree", subclusters=30)
    profile, _ = blob_profile({name: 150 for name in ARCHETYPES}, prospects=20)
    first = c.segment_customers(profile, None, None, AS_OF, config)
    day = AS_OF + timedelta(days=8)  # cadence: a refit, warm-started and aligned to the first model
    one_step = c.segment_customers(profile, first.model, first.assignment, day, config)

    buyers = c.prepare_profile(profile, keep_extra=False).filter(~c.is_prospect())
    candidate = fitting.fit_candidate(
        fitting.fit_sample(buyers, config), buyers.height, first.model, first.model.k, day, config
    )
    candidate = c.SegmentModel.from_json(candidate.to_json())  # through the plan table, as JSON
    model_out, final_ids = fitting.finish_model(
        candidate, _bucketed(buyers, candidate), first.model, None, config
    )
    assert model_out.centroids == one_step.model.centroids
    assert model_out.segment_ids == one_step.model.segment_ids and model_out.next_id == one_step.model.next_id
    assert model_out.fit_shares == one_step.model.fit_shares
    # Distances come from BLAS products whose rounding depends on the block shape: equal to ~1e-9.
    assert model_out.fit_mean_distance == pytest.approx(one_step.model.fit_mean_distance, rel=1e-7)
    provisional, _ = candidate.assign(buyers)
    assert [final_ids[p] for p in provisional] == one_step.assignment.join(
        buyers.select("customer_id"), on="customer_id"
    ).sort("customer_id")["segment_id"].to_list()


def test_the_drift_test_on_bucket_usage_decides_as_on_every_buyer():
    profile, _ = blob_profile({name: 150 for name in ARCHETYPES})
    first = c.segment_customers(profile, None, None, AS_OF, FAST)
    changed, _ = blob_profile(
        {"gift_store": 400, "lapsed": 100, "bargain": 20, "online_frequent": 20}, seed=3
    )
    one_step = c.segment_customers(changed, first.model, first.assignment, AS_OF + timedelta(days=1), FAST)
    buyers = c.prepare_profile(changed, keep_extra=False).filter(~c.is_prospect())
    reason, drift, shift = drift_reason(first.model, _bucketed(buyers, first.model), FAST)
    assert reason is not None and one_step.reason == f"refit ({reason}); k={one_step.model.k}"
    assert shift == pytest.approx(one_step.share_shift) and drift == pytest.approx(one_step.drift, rel=1e-7)
