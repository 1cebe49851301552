"""Behavioural clustering: choice of k, stable ids across runs, drift, prospects, explanations."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import adjusted_rand_score, silhouette_score

from segmentation_pipeline.models.segmentation import clustering as c
from segmentation_pipeline.models.segmentation import k_choice

AS_OF = date(2026, 6, 30)
FAST = c.SegmentationConfig(k_max=8)

# Four behaviourally distinct archetypes: in-store gift buyers, frequent online buyers,
# bargain hunters, lapsed customers.
ARCHETYPES = {
    "gift_store": dict(share_store=0.9, share_online=0.1, occasion_share=0.8, discount_share=0.05, aov=400, freq=6, recency=40),
    "online_frequent": dict(share_store=0.02, share_online=0.98, occasion_share=0.05, discount_share=0.1, aov=30, freq=15, recency=10),
    "bargain": dict(share_store=0.5, share_online=0.5, occasion_share=0.05, discount_share=0.8, aov=50, freq=5, recency=30),
    "lapsed": dict(share_store=0.5, share_online=0.5, occasion_share=0.1, discount_share=0.1, aov=70, freq=2, recency=500),
}  # fmt: skip


def blob_profile(sizes: dict[str, int], seed: int = 1, prospects: int = 0) -> tuple[pl.DataFrame, np.ndarray]:
    """A profile with only behavioural columns (no survey, no social): the others are absent."""
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    for label, (name, n) in enumerate(sizes.items()):
        a = ARCHETYPES[name]
        for _ in range(n):
            store = float(np.clip(a["share_store"] + rng.normal(0, 0.03), 0, 1))
            rows.append(
                {
                    "frequency": max(1, round(a["freq"] * rng.lognormal(0, 0.15))),
                    "recency_days": round(a["recency"] * rng.lognormal(0, 0.15)),
                    "avg_order_value": a["aov"] * rng.lognormal(0, 0.15),
                    "share_store": store,
                    "share_online": 1 - store,
                    "share_phone": 0.0,
                    "occasion_share": float(np.clip(a["occasion_share"] + rng.normal(0, 0.03), 0, 1)),
                    "discount_share": float(np.clip(a["discount_share"] + rng.normal(0, 0.03), 0, 1)),
                }
            )
            labels.append(label)
    for _ in range(prospects):
        rows.append({"frequency": 0})
        labels.append(-1)
    df = pl.DataFrame(rows, infer_schema_length=None)
    df = df.with_columns(
        pl.format("C{}", pl.int_range(pl.len()).cast(pl.String).str.zfill(5)).alias("customer_id")
    )
    return df, np.array(labels)


def test_four_well_separated_blobs_give_k_4():
    profile, labels = blob_profile({name: 150 for name in ARCHETYPES})
    result = c.segment_customers(profile, None, None, AS_OF, FAST)
    assert result.model.k == 4
    assert result.refitted and result.reason.startswith("refit (first fit")
    assert set(result.k_scores) == set(range(2, 9))
    assigned = profile.select("customer_id").join(result.assignment, on="customer_id", how="left")
    assert adjusted_rand_score(labels, assigned.get_column("segment_id").to_numpy()) == pytest.approx(1.0)


def test_choice_of_k_respects_min_segment_share():
    # Three big archetypes and a tiny one (1.6% of buyers): a k that isolates it is not eligible at 2%.
    profile, _ = blob_profile({"gift_store": 200, "online_frequent": 200, "bargain": 200, "lapsed": 10})
    strict = c.segment_customers(profile, None, None, AS_OF, FAST)
    assert strict.model.k_min_share[strict.model.k] >= 0.02
    assert strict.model.k == 3
    ineligible = [k for k, share in strict.model.k_min_share.items() if share < 0.02]
    assert ineligible, "some k should have isolated the tiny group"
    lenient = c.segment_customers(
        profile, None, None, AS_OF, c.SegmentationConfig(k_max=8, min_segment_share=0.005)
    )
    assert lenient.model.k == 4


def test_hungarian_alignment_keeps_ids_of_permuted_centroids():
    previous = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    permuted = previous[[2, 0, 1]] + 0.1
    ids, next_id = c.align_segment_ids(permuted, previous, [7, 8, 9], next_id=10, max_distance=1.0)
    assert ids == [9, 7, 8]
    assert next_id == 10


def test_retired_ids_are_never_reused():
    previous = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    # Cluster 3 disappears, a new far-away cluster appears: it gets a fresh id, 3 is retired.
    new = np.array([[0.0, 0.1], [10.0, 0.1], [50.0, 50.0]])
    ids, next_id = c.align_segment_ids(new, previous, [1, 2, 3], next_id=4, max_distance=1.0)
    assert ids == [1, 2, 4] and next_id == 5
    # Next refit: only segment 1 survives, two new clusters: ids 5 and 6, never 2, 3 or 4.
    newer = np.array([[0.0, 0.0], [-40.0, 0.0], [0.0, -40.0]])
    ids, next_id = c.align_segment_ids(newer, new, ids, next_id=next_id, max_distance=1.0)
    assert ids == [1, 5, 6] and next_id == 7


def test_refit_keeps_segment_ids_whatever_the_row_order():
    profile, _ = blob_profile({name: 120 for name in ARCHETYPES})
    first = c.segment_customers(profile, None, None, AS_OF, FAST)
    shuffled = profile.sample(fraction=1.0, shuffle=True, seed=3)
    forced = c.SegmentationConfig(k_max=8, force_refit=True)
    second = c.segment_customers(shuffled, first.model, first.assignment, AS_OF + timedelta(days=1), forced)
    assert second.refitted
    assert sorted(second.model.segment_ids) == sorted(first.model.segment_ids)
    assert second.assignment.equals(first.assignment)
    assert second.ari_vs_previous == pytest.approx(1.0)
    assert second.model.next_id == first.model.next_id


def test_daily_reuse_then_cadence_refit():
    profile, _ = blob_profile({name: 100 for name in ARCHETYPES})
    first = c.segment_customers(profile, None, None, AS_OF, FAST)
    tomorrow = profile.with_columns(pl.col("recency_days") + 1)
    reused = c.segment_customers(tomorrow, first.model, first.assignment, AS_OF + timedelta(days=1), FAST)
    assert not reused.refitted and reused.model is first.model
    assert reused.reason.startswith("reused model fitted 2026-06-30")
    assert reused.ari_vs_previous == pytest.approx(1.0)
    week = c.segment_customers(tomorrow, first.model, first.assignment, AS_OF + timedelta(days=7), FAST)
    assert week.refitted and "cadence" in week.reason
    assert week.model.fitted_at == (AS_OF + timedelta(days=7)).isoformat()


def test_drift_triggers_a_refit():
    profile, _ = blob_profile({name: 100 for name in ARCHETYPES})
    first = c.segment_customers(profile, None, None, AS_OF, FAST)
    # Everyone suddenly buys big baskets on discount: customers sit far from every centroid.
    changed = profile.with_columns(pl.col("avg_order_value") * 50, pl.lit(0.95).alias("discount_share"))
    result = c.segment_customers(changed, first.model, first.assignment, AS_OF + timedelta(days=1), FAST)
    assert result.refitted and "drift" in result.reason
    assert result.drift > FAST.drift_threshold


def test_prospects_get_the_reserved_segment_and_ids_never_clash():
    profile, labels = blob_profile({name: 80 for name in ARCHETYPES}, prospects=25)
    result = c.segment_customers(profile, None, None, AS_OF, FAST)
    joined = profile.select("customer_id").join(result.assignment, on="customer_id")
    seg = joined.get_column("segment_id").to_numpy()
    assert (seg[labels == -1] == c.PROSPECT_SEGMENT_ID).all()
    assert (seg[labels >= 0] != c.PROSPECT_SEGMENT_ID).all()
    assert c.PROSPECT_SEGMENT_ID not in result.model.segment_ids
    assert result.assignment.height == profile.height


def test_model_json_round_trip_assigns_identically():
    profile, _ = blob_profile({name: 60 for name in ARCHETYPES})
    result = c.segment_customers(profile, None, None, AS_OF, FAST)
    restored = c.SegmentModel.from_json(result.model.to_json())
    assert restored == result.model
    buyers = c.prepare_profile(profile).filter(~c.is_prospect())
    assert (restored.assign(buyers)[0] == result.model.assign(buyers)[0]).all()


def test_deterministic_for_a_seed():
    profile, _ = blob_profile({name: 60 for name in ARCHETYPES})
    a = c.segment_customers(profile, None, None, AS_OF, FAST)
    b = c.segment_customers(profile, None, None, AS_OF, FAST)
    assert a.model.to_json() == b.model.to_json()
    assert a.assignment.equals(b.assignment)


def test_robust_to_null_and_missing_optional_columns():
    profile, _ = blob_profile({name: 40 for name in ARCHETYPES})
    empty_sources = profile.with_columns(
        pl.lit(None).alias("main_motivation"),  # Null-typed columns: a source entirely absent
        pl.lit(None).alias("social_followers"),
        pl.lit(None).alias("clv_12m"),
        pl.lit(None, dtype=pl.Float64).alias("age"),
        pl.when(pl.int_range(pl.len()) % 7 == 0)
        .then(None)
        .otherwise(pl.col("share_store"))
        .alias("share_store"),
    )
    result = c.segment_customers(empty_sources, None, None, AS_OF, FAST)
    assert result.assignment.get_column("segment_id").null_count() == 0
    assert result.model.k >= 2


def test_tiny_and_empty_bases():
    tiny, _ = blob_profile({"gift_store": 2, "bargain": 1})
    result = c.segment_customers(tiny, None, None, AS_OF, FAST)
    assert result.model.k == 1 and result.assignment.get_column("segment_id").unique().to_list() == [1]
    only_prospects = pl.DataFrame({"customer_id": ["a", "b"], "frequency": [0, None]})
    result = c.segment_customers(only_prospects, None, None, AS_OF, FAST)
    assert result.model.k == 0 and result.assignment.get_column("segment_id").to_list() == [0, 0]


def test_adjusted_rand_vs_previous():
    current = pl.DataFrame({"customer_id": ["a", "b", "c", "d"], "segment_id": [1, 1, 2, 2]})
    relabelled = pl.DataFrame({"customer_id": ["a", "b", "c", "e"], "segment_id": [5, 5, 6, 6]})
    assert c.adjusted_rand_vs_previous(current, relabelled) == pytest.approx(1.0)
    assert c.adjusted_rand_vs_previous(current, None) is None
    assert c.adjusted_rand_vs_previous(current, relabelled.filter(pl.col("customer_id") == "e")) is None


def test_silhouette_from_distances_matches_sklearn():
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(0, 1, (40, 3)), rng.normal(4, 1, (30, 3)), rng.normal(-4, 1, (2, 3))])
    labels = np.array([0] * 40 + [1] * 30 + [2] * 2)
    ours = k_choice.silhouette_from_distances(
        k_choice.pairwise_euclidean(x.astype(np.float32)).astype(np.float64), labels
    )
    assert ours == pytest.approx(silhouette_score(x, labels), abs=1e-5)


def test_explanations_name_what_sets_segments_apart():
    profile, labels = blob_profile({name: 50 for name in ARCHETYPES})
    profile = profile.with_columns(
        pl.Series("main_motivation", np.where(labels == 2, "price", "quality")),
        pl.Series("segment_id", labels + 1),
    )
    explained = c.explain_segments(profile, top_n=4)
    assert explained.height == 4
    gift = explained.filter(pl.col("segment_id") == 1).row(0, named=True)
    features = {t["feature"]: t for t in gift["traits"]}
    assert features["occasion_share"]["z"] > 1.0
    assert "orders for an occasion 80%" in gift["defining_traits"]
    bargain = explained.filter(pl.col("segment_id") == 3).row(0, named=True)
    motivation = [t for t in bargain["traits"] if t["feature"] == "main_motivation"]
    assert motivation and motivation[0]["category"] == "price" and motivation[0]["lift"] == pytest.approx(4.0)
    # one trait per redundancy group: never both store and online shares
    channel = [t for t in gift["traits"] if t["feature"].startswith("share_")]
    assert len(channel) <= 1


def test_without_previous_model_ids_follow_the_previous_assignment():
    profile, _ = blob_profile({name: 100 for name in ARCHETYPES})
    first = c.segment_customers(profile, None, None, AS_OF, FAST)
    # Same segments under other ids (e.g. the stored model was lost): a fresh fit takes them back.
    renamed = first.assignment.with_columns((pl.col("segment_id") * 10).alias("segment_id"))
    fresh = c.segment_customers(profile, None, renamed, AS_OF + timedelta(days=1), FAST)
    assert fresh.assignment.equals(renamed)
    assert fresh.model.next_id == 41


def test_align_by_overlap_gives_unmatched_clusters_fresh_ids():
    ids = pl.Series(["a", "b", "c", "d", "e", "f"])
    labels = np.array([0, 0, 1, 1, 2, 2])
    previous = pl.DataFrame({"customer_id": ["a", "b", "c", "d", "z"], "segment_id": [5, 5, 3, 0, 9]})
    aligned, next_id = c.align_by_overlap(ids, labels, previous, order=[0, 1, 2])
    # cluster 0 <- segment 5; cluster 1 has c (3) and d (prospect before): 1 of 1 returning buyer -> 3;
    # cluster 2 is all new customers -> a fresh id above every previous one.
    assert aligned == [5, 3, 10] and next_id == 11


def test_map_centroids_converts_a_changed_transform():
    # A version 1 model encoded recency as log1p; version 2 as sqrt. A warm start or an id alignment
    # across the upgrade must compare the same days, not log-days with root-days.
    old_col = c.EncodedColumn(
        "recency_days", "numeric", ["recency_days"], "log1p", mean=4.0, scale=1.5, weight=1.0
    )
    new_col = c.EncodedColumn(
        "recency_days", "numeric", ["recency_days"], "sqrt", mean=8.0, scale=5.0, weight=1.0
    )
    other = c.EncodedColumn("web_savviness", "numeric", ["web_savviness"], "ordinal", mean=1.0, scale=0.5)
    renamed = c.EncodedColumn("web_savviness", "numeric", ["web_savviness"], "log1p", mean=0.5, scale=0.5)
    days = np.array([10.0, 100.0, 400.0])
    model = c.SegmentModel(
        columns=[old_col, other],
        centroids=[[(np.log1p(d) - 4.0) / 1.5, 1.0] for d in days],
        segment_ids=[1, 2, 3],
        next_id=4,
        fitted_at="2026-06-30",
        k=3,
    )
    mapped = c.map_centroids(model, [new_col, renamed])
    assert mapped[:, 0] == pytest.approx((np.sqrt(days) - 8.0) / 5.0)
    assert (mapped[:, 1] == 0.0).all()  # ordinal -> log1p cannot be converted: the new mean


def test_k_is_scored_against_shuffled_copies_of_the_sample():
    # Four separated archetypes score far above their shuffled copies at k = 4; columns drawn
    # independently (no segments) score about as their copies do at every k.
    profile, _ = blob_profile({name: 150 for name in ARCHETYPES})
    model = c.segment_customers(profile, None, None, AS_OF, FAST).model
    for k, score in model.k_scores.items():
        assert score == pytest.approx(model.k_silhouette[k] / model.k_null_silhouette[k], rel=1e-4)
    assert model.k_scores[4] > 2.0
    rng = np.random.default_rng(3)
    n = 600
    noise = pl.DataFrame(
        {
            "customer_id": [f"N{i:05d}" for i in range(n)],
            "frequency": rng.integers(1, 12, n),
            "recency_days": rng.uniform(0, 700, n),
            "avg_order_value": rng.lognormal(4, 0.8, n),
            "occasion_share": rng.uniform(0, 1, n),
            "discount_share": rng.uniform(0, 1, n),
            "share_store": rng.uniform(0, 1, n),
        }
    )
    flat = c.segment_customers(noise, None, None, AS_OF, FAST).model
    assert all(0.7 < score < 1.4 for score in flat.k_scores.values()), flat.k_scores


def test_ward_merges_join_the_cheapest_pair_weighted_by_size():
    # Sub-clusters 0 and 1 are close but big, 2 and 3 a little further apart but tiny: Ward's cost
    # n_a n_b / (n_a + n_b) |c_a - c_b|^2 merges the tiny pair first (0.5 * 4 = 2 < 50 * 1 = 50).
    centroids = np.array([[0.0, 0.0], [1.0, 0.0], [10.0, 0.0], [12.0, 0.0]])
    sizes = np.array([100, 100, 1, 1])
    parts = k_choice.ward_merges(centroids, sizes)
    assert set(parts) == {1, 2, 3, 4}
    assert parts[3].tolist() == [0, 1, 2, 2]
    assert parts[2].tolist() == [0, 0, 1, 1]
    assert parts[1].tolist() == [0, 0, 0, 0]


def test_a_small_archetype_far_from_a_big_spread_one_is_its_own_segment():
    # One big archetype spread along recency (k-means at k = 2 would cut it in two) and a small one
    # (8%) apart in discounts: the merged sub-clusters (model "tree") keep the small one whole.
    rng = np.random.default_rng(5)
    big, small = 1100, 100
    profile = pl.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(big + small)],
            "frequency": np.r_[rng.integers(2, 8, big), rng.integers(2, 8, small)],
            "recency_days": np.r_[rng.uniform(1, 700, big), rng.uniform(1, 700, small)],
            "discount_share": np.r_[rng.uniform(0.0, 0.2, big), rng.uniform(0.75, 0.95, small)],
        }
    )
    tree = c.SegmentationConfig(k_max=8, model="tree")
    result = c.segment_customers(profile, None, None, AS_OF, tree)
    labels = profile.select("customer_id").join(result.assignment, on="customer_id")["segment_id"].to_numpy()
    small_ids = set(labels[big:].tolist())
    assert len(small_ids) == 1, "the small archetype is split"
    assert (labels[:big] != next(iter(small_ids))).mean() > 0.98
    assert result.model.subcentroids and len(result.model.subsegments) == len(result.model.subcentroids)


def test_tree_model_round_trips_reuses_and_refits_with_stable_ids():
    tree = c.SegmentationConfig(k_max=8, model="tree")
    profile, labels = blob_profile({name: 150 for name in ARCHETYPES})
    first = c.segment_customers(profile, None, None, AS_OF, tree)
    assert first.model.k == 4
    assigned = profile.select("customer_id").join(first.assignment, on="customer_id")
    assert adjusted_rand_score(labels, assigned["segment_id"].to_numpy()) == pytest.approx(1.0)
    for k, score in first.model.k_scores.items():  # the tree's score: silhouette - null
        assert score == pytest.approx(
            first.model.k_silhouette[k] - first.model.k_null_silhouette[k], abs=1e-5
        )
    restored = c.SegmentModel.from_json(first.model.to_json())
    buyers = c.prepare_profile(profile).filter(~c.is_prospect())
    assert (restored.assign(buyers)[0] == first.model.assign(buyers)[0]).all()
    refit = c.segment_customers(
        profile, first.model, first.assignment, AS_OF + timedelta(days=1), replace(tree, force_refit=True)
    )
    assert refit.refitted and refit.ari_vs_previous == pytest.approx(1.0)
    assert sorted(refit.model.segment_ids) == sorted(first.model.segment_ids)


def test_the_null_is_fitted_on_a_log_grid_of_k_and_interpolated_between():
    # The grid keeps both ends of the search and thins out at high k, where fits are dearest.
    assert k_choice.null_grid(range(2, 21), 7) == [2, 3, 4, 6, 9, 14, 20]
    assert k_choice.null_grid(range(2, 5), 7) == [2, 3, 4]  # fewer k than points: every k
    assert k_choice.null_grid(range(2, 21), 0) == list(range(2, 21))
    x = np.random.default_rng(5).normal(size=(400, 4)).astype(np.float32)
    config = replace(FAST, null_grid_points=7)
    gridded = k_choice.null_silhouettes(x, range(2, 21), config)
    every = k_choice.null_silhouettes(x, range(2, 21), replace(config, null_grid_points=0))
    assert sorted(gridded) == list(range(2, 21))
    for k in (2, 3, 4, 6, 9, 14, 20):  # fitted: the same fits as with every k
        assert gridded[k] == pytest.approx(every[k], abs=1e-9)
    for k, (lo, hi) in {5: (4, 6), 10: (9, 14), 17: (14, 20)}.items():  # between its neighbours
        assert min(gridded[lo], gridded[hi]) <= gridded[k] <= max(gridded[lo], gridded[hi])
