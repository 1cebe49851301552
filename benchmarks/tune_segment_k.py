"""How the k choice was chosen: criteria for the number of segments compared on the tuning worlds.

For each world of `worlds.tuning_worlds()` (seeds 1001-1030; the benchmark's worlds, seeds 1-20,
are never used here), the buyers are encoded as the pipeline does (`learn_encoding`, trait
weights, clipped scores) and k-means (5 restarts, 100 iterations) is fitted at every k from 2 to
20. Each criterion then picks one of those partitions, and the table gives the ARI over everyone
(segments vs the archetype the data shows, prospects in segment 0) of the partition it picked, and
how often its k is within one of the planted K:

- best k / true K: references no method can use (the partition with the highest ARI; the planted K);
- silhouette: mean silhouette of a 4,000-buyer subsample, among the k whose smallest segment holds 2%;
- silhouette - null, silhouette / null: against the mean silhouette that k-means reaches at the
  same k on three copies of the subsample with every column shuffled on its own (no structure);
- gap (1-SE rule) with the same shuffled null; Calinski-Harabasz; Davies-Bouldin.

Per-world results are cached under .bench/tuning (k-means and the null fits take about a minute
per world on a quiet machine).

    .venv/bin/python -m benchmarks.tune_segment_k [--worlds 30]
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)
from threadpoolctl import threadpool_limits

from benchmarks.common import BENCH_DIR, print_table
from benchmarks.worlds import WorldSpec, tuning_worlds, world_frames
from segmentation_pipeline.models.segmentation import clustering

KS = np.arange(2, 21)
MIN_SHARE = 0.02


def world_curves(spec: WorldSpec, cache: Path) -> dict[str, np.ndarray]:
    """Per k: ARI over everyone, smallest share, silhouette, null silhouettes, log W and its nulls, CH, DB."""
    path = cache / f"{spec.name}.npz"
    if path.exists():
        return dict(np.load(path))
    features, truth = world_frames(spec, BENCH_DIR / "worlds")
    prepared = clustering.prepare_profile(features, keep_extra=False)
    buyers = prepared.filter(~clustering.is_prospect()).sort("customer_id")
    columns = clustering.learn_encoding(buyers)
    x32 = (
        buyers.select([c.expr() for c in columns]).to_numpy().astype(np.float32)
    )  # k-means fits as the asset's
    x = x32.astype(np.float64)
    shown = buyers.select("customer_id").join(truth, on="customer_id", how="left", maintain_order="left")
    shown = shown["visible_archetype"]
    rest = prepared.filter(clustering.is_prospect()).join(truth, on="customer_id")["visible_archetype"]
    everyone = np.concatenate([shown.to_numpy().astype(str), rest.to_numpy().astype(str)])

    rng = np.random.default_rng(0)
    sub = rng.permutation(len(x))[:4000]
    nulls = [np.column_stack([rng.permutation(col) for col in x[sub].T]) for _ in range(3)]
    out: dict[str, list] = {k: [] for k in ("ari", "min_share", "sil", "log_w", "ch", "db")}
    null_sil, null_log_w = np.zeros((3, len(KS))), np.zeros((3, len(KS)))
    for i, k in enumerate(KS):
        km = KMeans(k, n_init=5, max_iter=100, random_state=42).fit(x32)
        labels = km.labels_
        segments = np.concatenate([labels + 1, np.zeros(len(rest), dtype=labels.dtype)])
        out["ari"].append(adjusted_rand_score(everyone, segments))
        out["min_share"].append(np.bincount(labels).min() / len(labels))
        out["sil"].append(silhouette_score(x[sub], labels[sub]))
        out["log_w"].append(np.log(km.inertia_ / len(x)))
        out["ch"].append(calinski_harabasz_score(x, labels))
        out["db"].append(davies_bouldin_score(x, labels))
        for j, xn in enumerate(nulls):
            null = KMeans(k, n_init=3, max_iter=100, random_state=0).fit(xn)
            null_log_w[j, i] = np.log(null.inertia_ / len(xn))
            null_sil[j, i] = silhouette_score(xn, null.labels_)
    curves = {key: np.asarray(v) for key, v in out.items()}
    curves |= {"null_sil": null_sil, "null_log_w": null_log_w, "K": np.asarray(spec.archetypes)}
    cache.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **curves)
    return curves


def _eligible(c: dict, score: np.ndarray) -> int:
    return int(np.argmax(np.where(c["min_share"] >= MIN_SHARE, score, -np.inf)))


def _gap_one_se(c: dict) -> int:
    gap = c["null_log_w"].mean(axis=0) - c["log_w"]
    se = c["null_log_w"].std(axis=0) * np.sqrt(1 + 1 / c["null_log_w"].shape[0])
    return next((i for i in range(len(gap) - 1) if gap[i] >= gap[i + 1] - se[i + 1]), len(gap) - 1)


CRITERIA: dict[str, Callable[[dict], int]] = {
    "best k (reference)": lambda c: int(np.argmax(c["ari"])),
    "true K (reference)": lambda c: int(c["K"]) - 2,
    "silhouette (before)": lambda c: _eligible(c, c["sil"]),
    "silhouette - null (3 copies)": lambda c: _eligible(c, c["sil"] - c["null_sil"].mean(axis=0)),
    "silhouette / null (1 copy)": lambda c: _eligible(c, c["sil"] / c["null_sil"][0]),
    "silhouette / null (3 copies, chosen)": lambda c: _eligible(c, c["sil"] / c["null_sil"].mean(axis=0)),
    "gap statistic, 1-SE rule": _gap_one_se,
    "Calinski-Harabasz": lambda c: _eligible(c, c["ch"]),
    "Davies-Bouldin": lambda c: _eligible(c, -c["db"]),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=30)
    parser.add_argument("--cached", action="store_true", help="only the worlds already computed")
    args = parser.parse_args()
    cache = BENCH_DIR / "tuning"
    curves = []
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for spec in tuning_worlds(args.worlds):
            if args.cached and not (cache / f"{spec.name}.npz").exists():
                continue
            curves.append(world_curves(spec, cache))
            best = int(np.argmax(curves[-1]["ari"]))
            print(f"{spec.name}: best k {best + 2} (ARI {curves[-1]['ari'][best]:.3f})", flush=True)
    rows = []
    for name, pick in CRITERIA.items():
        chosen = [pick(c) for c in curves]
        aris = [float(c["ari"][i]) for c, i in zip(curves, chosen, strict=True)]
        within = np.mean([abs(i + 2 - int(c["K"])) <= 1 for c, i in zip(curves, chosen, strict=True)])
        rows.append(
            (name, f"{np.median(aris):.3f}", f"{min(aris):.3f}", f"{np.mean(aris):.3f}", f"{within:.0%}")
        )
    print_table(
        f"k criteria on {len(curves)} tuning worlds (ARI over everyone of the partition each picks)",
        rows,
        ("criterion", "median", "worst", "mean", "k within ±1"),
    )


if __name__ == "__main__":
    main()
