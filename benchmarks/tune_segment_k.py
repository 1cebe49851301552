"""How the segmentation was chosen: spaces, models and k criteria compared on the tuning worlds only.

For each world of `worlds.tuning_worlds()` (seeds 1001-1030; the benchmark's worlds, seeds 1-20,
are never used here), the buyers are encoded as the pipeline does (`learn_encoding`: transforms,
trait weights, standard scores clipped at `--clip`, or not clipped with `--clip 0`), cut by k-means
into `--subclusters` sub-clusters and merged by weighted Ward (`k_choice.subcluster_tree`), as the
`model="tree"` fits. Every k from 2 to 20 is a cut of that tree; for each, the ARI over buyers (segment vs
planted archetype) and over everyone (vs the archetype the data shows, prospects in segment 0), the
smallest segment's share, and the silhouette of a 4,000-buyer subsample; the null is the same
procedure on three copies of the subsample with every column shuffled on its own. Each criterion
then picks one cut:

- true K / best k: references no method can use (the planted K; the cut with the highest ARI);
- silhouette; silhouette / null; silhouette - null (chosen), among the k whose smallest segment
  holds 2%.

`--kmeans` gives instead the default model's partitions (k-means at every k, 5 restarts) for the
same criteria. Per-world curves are cached under .bench/tuning.

    .venv/bin/python -m benchmarks.tune_segment_k [--worlds 30] [--clip 3] [--subclusters 60] [--kmeans]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, pairwise_distances, silhouette_score
from threadpoolctl import threadpool_limits

from benchmarks.common import BENCH_DIR, print_table
from benchmarks.worlds import WorldSpec, tuning_worlds, world_frames
from segmentation_pipeline.models.segmentation import clustering, k_choice

KS = list(range(2, 21))
MIN_SHARE = 0.02


def encoded(spec: WorldSpec, clip: float | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(buyers' matrix, their planted archetype, their visible archetype, prospects' visible archetype)."""
    features, truth = world_frames(spec, BENCH_DIR / "worlds")
    prepared = clustering.prepare_profile(features, keep_extra=False)
    buyers = prepared.filter(~clustering.is_prospect()).sort("customer_id")
    columns = [dataclasses.replace(c, clip=clip) for c in clustering.learn_encoding(buyers)]
    x = buyers.select([c.expr() for c in columns]).to_numpy().astype(np.float64)
    shown = buyers.select("customer_id").join(truth, on="customer_id", how="left", maintain_order="left")
    rest = prepared.filter(clustering.is_prospect()).join(truth, on="customer_id")["visible_archetype"]
    return x, shown["archetype"].to_numpy().astype(str), shown["visible_archetype"].to_numpy().astype(str), rest.to_numpy().astype(str)  # fmt: skip


def partitions(x: np.ndarray, subclusters: int, use_kmeans: bool) -> dict[int, np.ndarray]:
    if use_kmeans:
        return {k: KMeans(k, n_init=5, max_iter=100, random_state=42).fit(x).labels_ for k in KS}
    config = clustering.SegmentationConfig(subclusters=subclusters)
    km, parts = k_choice.subcluster_tree(x.astype(np.float32), config)
    return {k: parts[k][km.labels_] for k in KS}


def world_curves(
    spec: WorldSpec, cache: Path, clip: float | None, subclusters: int, use_kmeans: bool
) -> dict:
    tag = f"kmeans_c{clip}" if use_kmeans else f"tree{subclusters}_c{clip}"
    path = cache / f"{spec.name}_{tag}.json"
    if path.exists():
        return json.loads(path.read_text())
    x, planted, shown, rest = encoded(spec, clip)
    everyone = np.concatenate([shown, rest])
    rng = np.random.default_rng(0)
    sub = rng.permutation(len(x))[:4000]
    distances = pairwise_distances(x[sub])
    out: dict[str, list] = {key: [] for key in ("ari_buyers", "ari_all", "min_share", "sil")}
    for k, labels in partitions(x, subclusters, use_kmeans).items():
        out["ari_buyers"].append(adjusted_rand_score(planted, labels))
        out["ari_all"].append(
            adjusted_rand_score(everyone, np.concatenate([labels + 1, np.zeros(len(rest), int)]))
        )
        out["min_share"].append(float(np.bincount(labels, minlength=k).min() / len(labels)))
        out["sil"].append(float(silhouette_score(distances, labels[sub], metric="precomputed")))
    null = []
    for _ in range(3):
        shuffled = np.column_stack([rng.permutation(col) for col in x[sub].T])
        d = pairwise_distances(shuffled)
        null.append([float(silhouette_score(d, lab, metric="precomputed"))
                     for lab in partitions(shuffled, subclusters, use_kmeans).values()])  # fmt: skip
    curves = out | {"null": null, "K": spec.archetypes}
    cache.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(curves))
    return curves


def _eligible(c: dict, score: np.ndarray) -> int:
    return int(np.argmax(np.where(np.asarray(c["min_share"]) >= MIN_SHARE, score, -np.inf)))


CRITERIA: dict[str, Callable[[dict], int]] = {
    "true K (reference)": lambda c: int(c["K"]) - 2,
    "best k (reference)": lambda c: int(np.argmax(c["ari_all"])),
    "silhouette": lambda c: _eligible(c, np.asarray(c["sil"])),
    "silhouette / null": lambda c: _eligible(c, np.asarray(c["sil"]) / np.mean(c["null"], axis=0)),
    "silhouette - null (chosen)": lambda c: _eligible(c, np.asarray(c["sil"]) - np.mean(c["null"], axis=0)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=30)
    parser.add_argument("--clip", type=float, default=3.0, help="0: standard scores not clipped")
    parser.add_argument("--subclusters", type=int, default=60)
    parser.add_argument("--kmeans", action="store_true", help="k-means at every k (the default model)")
    parser.add_argument("--cached", action="store_true", help="only the worlds already computed")
    args = parser.parse_args()
    clip = args.clip or None
    cache = BENCH_DIR / "tuning"
    curves = []
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for spec in tuning_worlds(args.worlds):
            tag = f"kmeans_c{clip}" if args.kmeans else f"tree{args.subclusters}_c{clip}"
            if args.cached and not (cache / f"{spec.name}_{tag}.json").exists():
                continue
            curves.append(world_curves(spec, cache, clip, args.subclusters, args.kmeans))
            print(f"{spec.name}: done", flush=True)
    rows = []
    for name, pick in CRITERIA.items():
        chosen = [pick(c) for c in curves]
        buyers = [c["ari_buyers"][i] for c, i in zip(curves, chosen, strict=True)]
        everyone = [c["ari_all"][i] for c, i in zip(curves, chosen, strict=True)]
        within = np.mean([abs(i + 2 - int(c["K"])) <= 1 for c, i in zip(curves, chosen, strict=True)])
        rows.append((name, f"{statistics.median(buyers):.3f}", f"{min(buyers):.3f}",
                     f"{statistics.median(everyone):.3f}", f"{min(everyone):.3f}", f"{within:.0%}"))  # fmt: skip
    model = "k-means at every k" if args.kmeans else f"{args.subclusters} sub-clusters merged by Ward"
    print_table(
        f"{len(curves)} tuning worlds, {model}, scores clipped at {clip}: ARI of the partition each criterion picks",
        rows,
        ("criterion", "buyers median", "buyers worst", "everyone median", "everyone worst", "k within ±1"),
    )


if __name__ == "__main__":
    main()
