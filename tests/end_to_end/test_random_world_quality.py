"""Segment quality on random worlds the method was not tuned on: the number of segments and the ARI floor.

Three fixed random worlds (4, 7 and 10 buying archetypes plus prospects, 3,000 customers, one
year) are generated, ingested and turned into customer features by the job's own code
(benchmarks/worlds.py: `load_source` per source, then `build_feature_tables`, without Dagster),
and segmented as the asset does on a first run. The seeds are not among those the method was
chosen on (1000+) nor the benchmark's (1-20). benchmarks/bench_segment_quality.py gives the
distribution over twenty worlds.
"""

from __future__ import annotations

import polars as pl
import pytest
from sklearn.metrics import adjusted_rand_score

from benchmarks.worlds import WorldSpec, world_frames
from segmentation_pipeline.models.segmentation.clustering import PROSPECT_SEGMENT_ID, segment_customers

WORLDS = [WorldSpec(4, 501, 3_000, 365), WorldSpec(7, 502, 3_000, 365), WorldSpec(10, 503, 3_000, 365)]
# Measured 2026-12-01 with k by silhouette relative to shuffled copies: ARI over everyone 0.626,
# 0.892 and 0.874, over buyers 0.218, 0.795 and 0.676, k = 2, 6 and 8 (the raw silhouette before it:
# 0.626, 0.850, 0.540 with k = 2, 5, 2). The 4-archetype world holds one group far from all others
# (frequent phone buyers with many tickets) and is still split as "that group vs the rest".
MIN_ARI_ALL = 0.55  # every world, over every customer against the archetype the data shows
# Over the three worlds: 0.797 today; the sub-cluster tree (model "tree", 0.774) and the raw silhouette
# (0.672) fall below it.
MIN_MEAN_ARI_ALL = 0.78
# Here the method finds most archetypes: k within two of K, ARI >= 0.8 over everyone, >= 0.6 over buyers.
WELL_FOUND = {"k07_s502_n3000_d365": 7, "k10_s503_n3000_d365": 10}


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, tuple[int, float, float]]:
    """Per world: chosen k, ARI over everyone, ARI over buyers."""
    cache = tmp_path_factory.mktemp("random_worlds")
    out = {}
    for spec in WORLDS:
        features, truth = world_frames(spec, cache)
        result = segment_customers(features, None, None, features["as_of_date"].max())
        scored = result.assignment.join(truth, on="customer_id")
        buyers = scored.filter(pl.col("segment_id") != PROSPECT_SEGMENT_ID)
        # Prospects are segment 0 and only they are.
        assert (buyers.join(features, on="customer_id")["frequency"] > 0).all()
        out[spec.name] = (
            result.model.k,
            adjusted_rand_score(scored["visible_archetype"], scored["segment_id"]),
            adjusted_rand_score(buyers["archetype"], buyers["segment_id"]),
        )
        print(
            f"\n{spec.name}: k={out[spec.name][0]}, ARI all {out[spec.name][1]:.3f}, buyers {out[spec.name][2]:.3f}"
        )
    return out


def test_no_random_world_falls_below_the_floor(results):
    for name, (_, ari_all, _) in results.items():
        assert ari_all >= MIN_ARI_ALL, f"{name}: ARI {ari_all:.3f} < {MIN_ARI_ALL} over all customers"
    mean = sum(r[1] for r in results.values()) / len(results)
    assert mean >= MIN_MEAN_ARI_ALL, f"mean ARI {mean:.3f} < {MIN_MEAN_ARI_ALL}"


def test_the_archetypes_of_separable_worlds_are_found(results):
    for name, archetypes in WELL_FOUND.items():
        k, ari_all, ari_buyers = results[name]
        assert abs(k - archetypes) <= 2, f"{name}: k={k} for {archetypes} archetypes"
        assert ari_all >= 0.8, f"{name}: ARI {ari_all:.3f} < 0.8 over all customers"
        assert ari_buyers >= 0.6, f"{name}: ARI {ari_buyers:.3f} < 0.6 over buyers"
