"""Segment quality on random worlds the method was not tuned on: the pipeline's segmentation vs a plain baseline.

For each world of `worlds.benchmark_worlds()` (K = 3..12 buying archetypes, 3,000-20,000
customers, one to two years; built once and cached under .bench/worlds, see worlds.py for how
the job's ingest and feature code builds the frame), and for the sample world (3,000 customers,
730 days, seed 7, as tests/end_to_end/test_segment_quality.py):

- pipeline: `clustering.segment_customers` as the asset calls it on a first run;
- baseline: plain k-means + silhouette: the same encoded columns, every column at weight 1, k from
  2 to 20 by the silhouette of a 5,000-customer sample, prospects in segment 0 as well;
- at true K (a reference no method can use): k-means on the pipeline's encoded columns at the
  planted number of archetypes, to show how much is lost in choosing k and how much in the space.

The worlds are held out: the k choice was chosen on `worlds.tuning_worlds` (seeds 1001-1030).

Prints per world the true K, the chosen k and the adjusted Rand index over buyers (segment vs
planted archetype, customers with a counted order) and over everyone (vs the archetype the data
shows: "prospect" until the first order); then the distribution over worlds and the share of
worlds whose chosen k is within one of K. Not a timed test: a quality report.

`--clip C` runs everything with standard scores clipped at C instead of the encoding's `Z_CLIP`
(0: not clipped), to measure that encoding (the reference rows are cached per encoding).

    .venv/bin/python -m benchmarks.bench_segment_quality [--worlds 20] [--clip C]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score
from threadpoolctl import threadpool_limits

from benchmarks.common import BENCH_DIR, print_table
from benchmarks.worlds import WORLD_END, benchmark_worlds, build_features, visible_truth, world_frames
from segmentation_pipeline.models.segmentation import clustering

SAMPLE_WORLD = {"customers": 3_000, "days": 730, "seed": 7}


def pipeline_labels(features: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    result = clustering.segment_customers(features, None, None, WORLD_END)
    return result.assignment, result.model.k


def baseline_labels(features: pl.DataFrame, k_max: int = 20, seed: int = 0) -> tuple[pl.DataFrame, int]:
    """Plain k-means + silhouette on the pipeline's encoded columns, each at weight 1."""
    prepared = clustering.prepare_profile(features, keep_extra=False)
    buyers = prepared.filter(~clustering.is_prospect())
    columns = clustering.learn_encoding(buyers)
    for column in columns:
        column.weight = 1.0
    x = buyers.select([c.expr() for c in columns]).to_numpy()
    sample = np.random.default_rng(seed).permutation(x.shape[0])[:5_000]
    best: tuple[float, int, np.ndarray] | None = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(2, k_max + 1):
            labels = KMeans(k, n_init=3, random_state=seed).fit(x).labels_
            score = silhouette_score(x[sample], labels[sample])
            if best is None or score > best[0]:
                best = (score, k, labels)
    assert best is not None
    assignment = pl.concat(
        [
            pl.DataFrame({"customer_id": buyers["customer_id"], "segment_id": best[2].astype(np.int64) + 1}),
            prepared.filter(clustering.is_prospect()).select(
                "customer_id", pl.lit(0, pl.Int64).alias("segment_id")
            ),
        ]
    )
    return assignment, best[1]


def at_true_k_labels(features: pl.DataFrame, k: int, seed: int = 42) -> tuple[pl.DataFrame, int]:
    """k-means (5 restarts) at the planted K on the pipeline's encoding, prospects in segment 0."""
    prepared = clustering.prepare_profile(features, keep_extra=False)
    buyers = prepared.filter(~clustering.is_prospect())
    columns = clustering.learn_encoding(buyers)
    x = buyers.select([c.expr() for c in columns]).to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        labels = KMeans(k, n_init=5, random_state=seed).fit(x).labels_
    assignment = pl.concat(
        [
            pl.DataFrame({"customer_id": buyers["customer_id"], "segment_id": labels.astype(np.int64) + 1}),
            prepared.filter(clustering.is_prospect()).select(
                "customer_id", pl.lit(0, pl.Int64).alias("segment_id")
            ),
        ]
    )
    return assignment, k


def scores(assignment: pl.DataFrame, truth: pl.DataFrame) -> tuple[float, float]:
    """(ARI over buyers vs the planted archetype, ARI over everyone vs the visible archetype)."""
    scored = assignment.join(truth, on="customer_id")
    buyers = scored.filter(pl.col("segment_id") != clustering.PROSPECT_SEGMENT_ID)
    return (
        float(adjusted_rand_score(buyers["archetype"], buyers["segment_id"])),
        float(adjusted_rand_score(scored["visible_archetype"], scored["segment_id"])),
    )


def sample_world_frames(cache_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    from segmentation_pipeline.synth import generate_landing_zone

    folder = cache_dir / "sample_world_s{seed}_n{customers}_d{days}".format(**SAMPLE_WORLD)
    if not (folder / "features.parquet").exists():
        with tempfile.TemporaryDirectory() as tmp:
            generate_landing_zone(Path(tmp), end_date=WORLD_END, **SAMPLE_WORLD)
            features = build_features(Path(tmp), WORLD_END)
            truth = visible_truth(pl.read_parquet(Path(tmp) / "truth" / "archetypes.parquet"), WORLD_END)
        folder.mkdir(parents=True, exist_ok=True)
        features.write_parquet(folder / "features.parquet")
        truth.write_parquet(folder / "truth.parquet")
    return pl.read_parquet(folder / "features.parquet"), pl.read_parquet(folder / "truth.parquet")


def _reference_cache_key() -> str:
    """The baseline and true-K rows depend only on the encoding: cached per world under its definition."""
    import hashlib

    from segmentation_pipeline.models.segmentation import encoding as e

    spec = repr((e.NUMERIC_FEATURES, e.ONE_HOT_FEATURES, e.MISSING_INDICATORS, e.Z_CLIP, e.ONE_HOT_WEIGHT))
    return hashlib.sha256(spec.encode()).hexdigest()[:12]


def is_cached(name: str, method: str) -> bool:
    return (BENCH_DIR / "quality" / f"{name}_{method}_{_reference_cache_key()}.parquet").exists()


def cached_labels(name: str, method: str, compute) -> tuple[pl.DataFrame, int]:
    """`compute()` once per world, encoding code and method; later runs read it (the references take minutes)."""
    path = BENCH_DIR / "quality" / f"{name}_{method}_{_reference_cache_key()}.parquet"
    if path.exists():
        frame = pl.read_parquet(path)
        return frame.drop("k"), int(frame["k"][0])
    assignment, k = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    assignment.with_columns(pl.lit(k).alias("k")).write_parquet(path)
    return assignment, k


def summary_rows(results: list[dict], method: str) -> list[tuple]:
    rows: list[tuple] = []
    if len(results) < 2:
        return rows
    key, method = method, f"{method} ({len(results)} worlds)"
    for measure in ("ari_buyers", "ari_all"):
        values = [r[f"{key}_{measure}"] for r in results]
        q1, _, q3 = statistics.quantiles(values, n=4)
        rows.append((method, measure, f"{statistics.median(values):.3f}", f"{min(values):.3f}",
                     f"{q1:.3f}", f"{q3:.3f}", f"{max(values):.3f}"))  # fmt: skip
    within = sum(abs(r[f"{key}_k"] - r["K"]) <= 1 for r in results) / len(results)
    rows.append((method, "k within ±1 of K", f"{within:.0%}", "", "", "", ""))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=20)
    parser.add_argument(
        "--references-only", action="store_true", help="compute and cache baseline and true-K rows"
    )
    parser.add_argument(
        "--cached-references",
        action="store_true",
        help="baseline and true-K rows only where cached (else skipped)",
    )
    parser.add_argument("--clip", type=float, default=None, help="clip standard scores here (0: not clipped)")
    args = parser.parse_args()
    if args.clip is not None:
        from segmentation_pipeline.models.segmentation import encoding

        encoding.Z_CLIP = args.clip or None  # learn_encoding reads it at each fit
    cache = BENCH_DIR / "worlds"
    results = []
    with threadpool_limits(limits=1):  # as the asset runs it; and the machine is shared
        for spec in benchmark_worlds(args.worlds):
            if args.references_only and not (cache / spec.name / "truth.parquet").exists():
                continue  # another process may be building it
            started = time.perf_counter()
            features, truth = world_frames(spec, cache)
            built = time.perf_counter() - started
            row: dict = {"world": spec.name, "K": spec.archetypes, "customers": features.height}
            methods = {
                "pipeline": pipeline_labels,
                "baseline": lambda f, n=spec.name: cached_labels(n, "baseline", lambda: baseline_labels(f)),
                "at_true_K": lambda f, n=spec.name, k=spec.archetypes: cached_labels(
                    n, "at_true_K", lambda: at_true_k_labels(f, k)
                ),
            }
            if args.references_only:
                methods.pop("pipeline")
            if args.cached_references and not is_cached(spec.name, "baseline"):
                methods = {"pipeline": pipeline_labels}
            for method, labels in methods.items():
                assignment, k = labels(features)
                row[f"{method}_k"] = k
                row[f"{method}_ari_buyers"], row[f"{method}_ari_all"] = scores(assignment, truth)
            if args.references_only:
                print(f"{spec.name}: references cached", flush=True)
                continue
            results.append(row)
            shown = "; ".join(f"{m} k={row[f'{m}_k']} ARI {row[f'{m}_ari_buyers']:.3f}/{row[f'{m}_ari_all']:.3f}"
                              for m in methods)  # fmt: skip
            print(f"{spec.name}: K={spec.archetypes} {shown}  (build {built:.0f} s)", flush=True)
        if args.references_only:
            return
        features, truth = sample_world_frames(cache)
        sample = {method: scores(labels(features)[0], truth) for method, labels in
                  (("pipeline", pipeline_labels), ("baseline", baseline_labels))}  # fmt: skip

    print_table(
        f"Segment quality over {len(results)} random worlds (ARI buyers = vs planted archetype among buyers; "
        "all = vs visible archetype, every customer)",
        [
            *summary_rows(results, "pipeline"),
            *summary_rows([r for r in results if "baseline_k" in r], "baseline"),
            *summary_rows([r for r in results if "at_true_K_k" in r], "at_true_K"),
        ],
        ("method", "measure", "median", "worst", "q1", "q3", "best"),
    )
    print("targets: median ARI >= 0.85, worst >= 0.65, k within ±1 in >= 80% of worlds")
    for method, (buyers, everyone) in sample.items():
        print(
            f"sample world (3,000 customers, 730 days, seed 7), {method}: ARI all {everyone:.3f}, buyers {buyers:.3f}"
        )


if __name__ == "__main__":
    main()
