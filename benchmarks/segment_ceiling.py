"""A supervised ceiling on the held-out random worlds: how well can any method separate the planted archetypes in our feature space?

A diagnostic, not a method: classifiers are trained on the truth labels (5-fold stratified
cross-validation over the buyers of each world) and their out-of-fold predictions are scored
like a segmentation (adjusted Rand index over buyers vs the planted archetype; over everyone,
prospects in segment 0, vs the archetype the data shows). An unsupervised method cannot beat a
classifier that saw the labels, so a world whose supervised ARI is below a target cannot meet it
in this space: the gap is then in the features (what the generator plants and they do not carry)
or in the archetypes' overlap, not in the choice of k or the clustering.

Spaces and classifiers (`--models`, comma-separated; default all):
  hgb_encoded   HistGradientBoostingClassifier on the segmentation's encoded columns (encoding.py)
  lda_encoded   linear discriminant analysis on the same columns
  qda_encoded   quadratic discriminant analysis on them (reg_param 0.1: many 0/1 columns)
  hgb_raw       HistGradientBoostingClassifier on the feature table before encoding: every column
                but ids and the analysis date (strings as categories, dates as days before it,
                nulls left to the trees)
  nearest_mean  in-sample nearest true archetype mean in the encoded space (no folds)
and, read from bench_segment_quality's cache when there, k-means at the true K.

`--landing W1,W2` (world names) asks instead whether the landing files carry what the feature
table loses: each world is generated again, staged as the job stages it, and columns the feature
table does not have are computed from the staged rows (LANDING_SQL: order detail - lines per
order, units per line, place in the category's price ladder, discount depth, occasion mix,
Christmas and weekend shares, regularity of the gaps between orders; social detail - brands
followed, following, platforms; service detail - resolution time, ticket channels). hgb_raw is
then compared with hgb_raw plus each group, plus all of them, and plus each part of the order
detail (ORDER_PARTS).

Then, per world, the archetype pairs the best classifier confuses most (share of the pair's
buyers predicted as the other), with the traits that tell them apart (the trait labels in the
archetypes' names, see synth/random_world.py), and over all worlds the pairs that differ in one
trait only, grouped by that trait: how separable each planted trait is on its own.

    .venv/bin/python -m benchmarks.segment_ceiling [--worlds 20] [--models hgb_encoded,lda_encoded]
    .venv/bin/python -m benchmarks.segment_ceiling --landing k10_s18_n14270_d730,k07_s15_n8241_d548
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections import defaultdict

import numpy as np
import polars as pl
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis, QuadraticDiscriminantAnalysis
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from benchmarks.bench_segment_quality import cached_labels, is_cached, scores
from benchmarks.common import BENCH_DIR, print_table
from benchmarks.worlds import WORLD_END, benchmark_worlds, world_frames
from segmentation_pipeline.models.segmentation import clustering

MODELS = ("hgb_encoded", "lda_encoded", "qda_encoded", "hgb_raw", "nearest_mean")
FOLDS = 5
# Not features: the key, the analysis date (the same for everyone).
NOT_FEATURES = {"customer_id", "as_of_date"}


def encoded_buyers(features: pl.DataFrame) -> tuple[pl.DataFrame, np.ndarray]:
    """(buyers' customer_id, their matrix in the segmentation's space) as the fit builds it."""
    prepared = clustering.prepare_profile(features, keep_extra=False)
    buyers = prepared.filter(~clustering.is_prospect())
    columns = clustering.learn_encoding(buyers)
    return buyers.select("customer_id"), buyers.select([c.expr() for c in columns]).to_numpy()


def raw_matrix(features: pl.DataFrame, ids: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(the feature table's columns for these customers, which of them are categories), nulls as NaN."""
    frame = ids.join(features, on="customer_id", how="left")
    columns, categorical = [], []
    for name, dtype in frame.schema.items():
        if name in NOT_FEATURES:
            continue
        values = frame[name]
        if dtype == pl.Date:
            values = frame.select((pl.lit(WORLD_END) - pl.col(name)).dt.total_days()).to_series()
        if dtype in (pl.String, pl.Categorical, pl.Boolean):
            values = values.cast(pl.String)
            levels = values.drop_nulls().unique().sort()
            if levels.len() > 250:  # the trees' category limit; ids-like columns (city) say nothing here
                continue
            codes = values.replace_strict(
                levels, list(range(levels.len())), default=None, return_dtype=pl.Float64
            )
            columns.append(codes.to_numpy())
            categorical.append(True)
        else:
            columns.append(values.cast(pl.Float64).to_numpy())
            categorical.append(False)
    return np.column_stack(columns), np.array(categorical)


def out_of_fold(model_name: str, x: np.ndarray, y: np.ndarray, categorical: np.ndarray | None) -> np.ndarray:
    """Out-of-fold predicted class index for every row."""
    if model_name == "nearest_mean":  # in-sample: the truth's own means
        means = np.stack([x[y == g].mean(axis=0) for g in range(y.max() + 1)])
        return ((x[:, None, :] - means[None]) ** 2).sum(axis=2).argmin(axis=1)
    predicted = np.empty_like(y)
    for train, test in StratifiedKFold(FOLDS, shuffle=True, random_state=0).split(x, y):
        if model_name.startswith("hgb"):
            model = HistGradientBoostingClassifier(
                max_iter=200, learning_rate=0.1, early_stopping=True, validation_fraction=0.1,
                n_iter_no_change=5, random_state=0,
                categorical_features=categorical if categorical is not None and categorical.any() else None,
            )  # fmt: skip
        elif model_name == "lda_encoded":
            model = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")
        else:
            model = QuadraticDiscriminantAnalysis(reg_param=0.1)
        xt = x[train]
        if not model_name.startswith("hgb"):
            keep = xt.std(axis=0) > 1e-9  # constant columns (an absent source) break the covariances
            model.fit(xt[:, keep], y[train])
            predicted[test] = model.predict(x[test][:, keep])
        else:
            model.fit(xt, y[train])
            predicted[test] = model.predict(x[test])
    return predicted


def everyone_ari(
    ids: pl.DataFrame, predicted: np.ndarray, features: pl.DataFrame, truth: pl.DataFrame
) -> float:
    """ARI over everyone as bench_segment_quality scores it: buyers in their predicted class, prospects 0."""
    prospects = clustering.prepare_profile(features, keep_extra=False).filter(clustering.is_prospect())
    assignment = pl.concat(
        [
            ids.with_columns(segment_id=pl.Series(predicted.astype(np.int64) + 1)),
            prospects.select("customer_id", pl.lit(0, pl.Int64).alias("segment_id")),
        ]
    )
    return scores(assignment, truth)[1]


def trait_labels(archetype: str) -> set[str]:
    """The trait labels an archetype's name lists: a03_big_baskets_brand_loyal -> {big_baskets, brand_loyal}."""
    labels = archetype.split("_", 1)[1]
    known = sorted(TRAIT_LABELS, key=len, reverse=True)
    found: set[str] = set()
    while labels:
        label = next((t for t in known if labels == t or labels.startswith(t + "_")), None)
        if label is None:
            raise ValueError(f"unknown trait label in {archetype!r}: {labels!r}")
        found.add(label)
        labels = labels[len(label) + 1 :]
    return found


TRAIT_LABELS = {
    "mostly_online", "mostly_store", "mostly_phone", "big_baskets", "small_baskets", "frequent", "rare",
    "lapsed", "discount", "occasions", "late_payer", "high_effort", "returns", "offline", "social",
    "cares_price", "cares_brand", "cares_reviews", "cares_features", "cares_service", "young", "senior",
    "brand_loyal", "business",
}  # fmt: skip


def confused_pairs(
    names: list[str], y: np.ndarray, predicted: np.ndarray
) -> list[tuple[float, str, str, int, int]]:
    """(share of the pair's buyers predicted as the other, a, b, n_a, n_b), most confused first."""
    k = len(names)
    matrix = np.zeros((k, k), dtype=np.int64)
    np.add.at(matrix, (y, predicted), 1)
    sizes = matrix.sum(axis=1)
    pairs = []
    for i in range(k):
        for j in range(i + 1, k):
            share = (matrix[i, j] + matrix[j, i]) / max(1, sizes[i] + sizes[j])
            pairs.append((float(share), names[i], names[j], int(sizes[i]), int(sizes[j])))
    return sorted(pairs, reverse=True)


# Per customer, from the staged landing rows up to the analysis date ($as_of); one query per group.
LANDING_SQL = {
    "orders": """
        WITH products AS (
            SELECT product_id, arg_max(category, updated_at) AS category, arg_max(list_price, updated_at) AS price
            FROM staging.products GROUP BY product_id
        ), ladder AS (
            SELECT product_id, percent_rank() OVER (PARTITION BY category ORDER BY price) AS price_rank FROM products
        ), lines AS (
            SELECT o.*, l.price_rank FROM staging.orders o LEFT JOIN ladder l USING (product_id)
            WHERE o.ordered_at < CAST($as_of AS DATE) + INTERVAL 1 DAY AND o.status = 'completed'
              AND o.customer_id IS NOT NULL
        ), orders AS (
            SELECT customer_id, order_id, min(ordered_at) AS placed_at, count(*) AS lines, any_value(occasion) AS occasion
            FROM lines GROUP BY customer_id, order_id
        ), gaps AS (
            SELECT customer_id, date_diff('day', lag(placed_at) OVER (PARTITION BY customer_id ORDER BY placed_at), placed_at) AS gap
            FROM orders
        ), per_order AS (
            SELECT customer_id, avg(lines) AS lines_per_order,
                avg(CAST(month(placed_at) = 12 OR (month(placed_at) = 11 AND day(placed_at) >= 15) AS INT)) AS christmas_share,
                avg(CAST(dayofweek(placed_at) IN (0, 6) AS INT)) AS weekend_share,
                avg(CAST(occasion = 'gift' AS INT)) AS gift_share,
                avg(CAST(occasion = 'holiday' AS INT)) AS holiday_share,
                avg(CAST(occasion = 'birthday' AS INT)) AS birthday_share,
                avg(CAST(occasion = 'special_event' AS INT)) AS special_event_share
            FROM orders GROUP BY customer_id
        ), regularity AS (
            SELECT customer_id, stddev_pop(gap) / nullif(avg(gap), 0) AS gap_cv
            FROM gaps WHERE gap IS NOT NULL GROUP BY customer_id
        ), per_line AS (
            SELECT customer_id, avg(quantity) AS units_per_line, avg(price_rank) AS price_rank,
                avg(CAST(coalesce(discount, 0) > 0 AS INT)) AS discounted_lines,
                avg(CASE WHEN discount > 0 THEN discount / nullif(quantity * unit_price, 0) END) AS discount_depth
            FROM lines GROUP BY customer_id
        )
        SELECT * FROM per_order LEFT JOIN regularity USING (customer_id) LEFT JOIN per_line USING (customer_id)
    """,
    "social": """
        SELECT customer_id, sum(brands_followed) AS brands_followed, sum(following) AS following,
            {platforms}
        FROM staging.social WHERE observed_at < CAST($as_of AS DATE) + INTERVAL 1 DAY GROUP BY customer_id
    """,
    "service": """
        SELECT customer_id, avg(resolution_minutes) AS mean_resolution_minutes, {channels}
        FROM staging.service WHERE opened_at < CAST($as_of AS DATE) + INTERVAL 1 DAY GROUP BY customer_id
    """,
}


# The order-detail columns in parts, to tell which of them carry what the feature table loses.
ORDER_PARTS = {
    "occasion_mix": ["gift_share", "holiday_share", "birthday_share", "special_event_share"],
    "basket_detail": ["lines_per_order", "units_per_line", "price_rank"],
    "timing": ["christmas_share", "weekend_share", "gap_cv"],
    "discount_detail": ["discounted_lines", "discount_depth"],
}


def landing_columns(spec, cache_dir) -> dict[str, pl.DataFrame]:
    """Per group of LANDING_SQL, customer_id and its columns: the world generated again and staged."""
    import tempfile
    from pathlib import Path

    import duckdb

    from segmentation_pipeline.contracts import SOURCES, enums
    from segmentation_pipeline.settings import Settings
    from segmentation_pipeline.staging.load import load_source
    from segmentation_pipeline.synth import generate_landing_zone
    from segmentation_pipeline.synth.random_world import draw_archetypes
    from segmentation_pipeline.warehouse.tables import ensure_schemas

    paths = {group: cache_dir / f"{spec.name}_landing_{group}.parquet" for group in LANDING_SQL}
    if all(p.exists() for p in paths.values()):
        return {group: pl.read_parquet(p) for group, p in paths.items()}
    sql = {
        "orders": LANDING_SQL["orders"],
        "social": LANDING_SQL["social"].format(platforms=", ".join(
            f"max(CAST(platform = '{p}' AS INT)) AS on_{p}" for p in enums.SOCIAL_PLATFORMS)),
        "service": LANDING_SQL["service"].format(channels=", ".join(
            f"avg(CAST(channel = '{c}' AS INT)) AS tickets_{c}" for c in ("email", "phone", "chat", "social", "store"))),
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        generate_landing_zone(data_dir, spec.customers, spec.days, spec.seed, end_date=WORLD_END,
                              archetypes=draw_archetypes(spec.archetypes, spec.seed))  # fmt: skip
        settings = Settings(data_dir=data_dir, settle_seconds=0)
        conn = duckdb.connect(str(data_dir / "warehouse.duckdb"), config=settings.duckdb_config())
        try:
            ensure_schemas(conn)
            for contract in SOURCES.values():
                load_source(conn, data_dir / "raw", contract, WORLD_END)
            frames = {group: conn.execute(q, {"as_of": WORLD_END}).pl() for group, q in sql.items()}
        finally:
            conn.close()
    cache_dir.mkdir(parents=True, exist_ok=True)
    for group, frame in frames.items():
        frame.write_parquet(paths[group])
    return frames


def landing_report(names: list[str]) -> None:
    """hgb_raw against hgb_raw plus each group of landing columns, on the named worlds."""
    specs = {spec.name: spec for spec in benchmark_worlds(20)}
    variants = ("hgb_raw", *(f"+{g}" for g in LANDING_SQL), "+all", *(f"+{part}" for part in ORDER_PARTS))
    rows = []
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in names:
            spec = specs[name]
            features, truth = world_frames(spec, BENCH_DIR / "worlds")
            extra = landing_columns(spec, BENCH_DIR / "ceiling")
            ids, _ = encoded_buyers(features)
            labelled = ids.join(truth, on="customer_id", how="left")
            classes = sorted(labelled["archetype"].unique().to_list())
            y = labelled["archetype"].replace_strict(
                classes, list(range(len(classes))), return_dtype=pl.Int64
            )
            y = y.to_numpy()
            row = [name, spec.archetypes, len(y)]
            for variant in variants:
                groups = (
                    [] if variant == "hgb_raw" else list(LANDING_SQL) if variant == "+all" else [variant[1:]]
                )
                table = features
                if variant[1:] in ORDER_PARTS:
                    groups = []
                    table = table.join(
                        extra["orders"].select("customer_id", *ORDER_PARTS[variant[1:]]),
                        on="customer_id",
                        how="left",
                    )
                for group in groups:
                    table = table.join(extra[group], on="customer_id", how="left")
                x, categorical = raw_matrix(table, ids)
                predicted = out_of_fold("hgb_raw", x, y, categorical)
                row.append(f"{adjusted_rand_score(y, predicted):.3f}")
            rows.append(tuple(row))
            print(name, *row[3:], flush=True)
    print_table("ARI over buyers (out-of-fold): the feature table, plus columns from the landing files",
                rows, ("world", "K", "buyers", *variants))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=20)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--pairs", type=int, default=3, help="confused pairs shown per world")
    parser.add_argument("--landing", default="", help="world names: the landing files' extra columns")
    args = parser.parse_args()
    if args.landing:
        landing_report(args.landing.split(","))
        return
    models = [m for m in args.models.split(",") if m]
    cache = BENCH_DIR / "worlds"
    results, pair_rows = [], []
    started_cpu = time.process_time()
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for spec in benchmark_worlds(args.worlds):
            world_cpu = time.process_time()
            features, truth = world_frames(spec, cache)
            ids, x_encoded = encoded_buyers(features)
            labelled = ids.join(truth, on="customer_id", how="left")
            names = sorted(labelled["archetype"].unique().to_list())
            y = (
                labelled["archetype"]
                .replace_strict(names, list(range(len(names))), return_dtype=pl.Int64)
                .to_numpy()
            )
            row: dict = {"world": spec.name, "K": spec.archetypes, "buyers": len(y)}
            best: tuple[float, np.ndarray] | None = None
            for name in models:
                if name == "hgb_raw":
                    x, categorical = raw_matrix(features, ids)
                else:
                    x, categorical = x_encoded, None
                predicted = out_of_fold(name, x, y, categorical)
                row[f"{name}_buyers"] = float(adjusted_rand_score(y, predicted))
                row[f"{name}_all"] = everyone_ari(ids, predicted, features, truth)
                if name != "nearest_mean" and (best is None or row[f"{name}_buyers"] > best[0]):
                    best = (row[f"{name}_buyers"], predicted)
            if is_cached(spec.name, "at_true_K"):
                assignment, _ = cached_labels(spec.name, "at_true_K", lambda: None)
                row["kmeans_true_K_buyers"], row["kmeans_true_K_all"] = scores(assignment, truth)
            if best is not None:
                row["pairs"] = confused_pairs(names, y, best[1])
                for share, a, b, _, _ in row["pairs"]:
                    pair_rows.append((spec.name, share, a, b, trait_labels(a) ^ trait_labels(b)))
            results.append(row)
            shown = "  ".join(f"{m} {row[f'{m}_buyers']:.3f}/{row[f'{m}_all']:.3f}" for m in models)
            print(f"{spec.name}: K={spec.archetypes} buyers={len(y)}  {shown}  "
                  f"({time.process_time() - world_cpu:.0f} s CPU)", flush=True)  # fmt: skip

    measured = [*models, *(["kmeans_true_K"] if any("kmeans_true_K_buyers" in r for r in results) else [])]
    print_table(
        f"Per world, ARI over buyers / over everyone (out-of-fold, {FOLDS}-fold; nearest_mean in-sample)",
        [
            (
                r["world"],
                r["K"],
                r["buyers"],
                *(
                    f"{r[f'{m}_buyers']:.3f} / {r[f'{m}_all']:.3f}" if f"{m}_buyers" in r else ""
                    for m in measured
                ),
            )
            for r in results
        ],  # fmt: skip
        ("world", "K", "buyers", *measured),
    )
    summary = []
    for m in measured:
        for measure, label in (("buyers", "over buyers"), ("all", "over everyone")):
            values = [r[f"{m}_{measure}"] for r in results if f"{m}_{measure}" in r]
            if len(values) < 2:
                continue
            q1, _, q3 = statistics.quantiles(values, n=4)
            summary.append((m, label, f"{statistics.median(values):.3f}", f"{min(values):.3f}", f"{q1:.3f}",
                            f"{q3:.3f}", f"{max(values):.3f}",
                            f"{sum(v >= 0.85 for v in values)}/{len(values)}",
                            f"{sum(v >= 0.65 for v in values)}/{len(values)}"))  # fmt: skip
    print_table(
        f"Distribution over {len(results)} worlds",
        summary,
        ("model", "measure", "median", "worst", "q1", "q3", "best", ">= 0.85", ">= 0.65"),
    )
    print("targets (unsupervised): median ARI >= 0.85, worst >= 0.65")

    best_model = max(models, key=lambda m: statistics.median(r[f"{m}_buyers"] for r in results)
                     if m != "nearest_mean" else -1)  # fmt: skip
    worst = sorted(results, key=lambda r: r[f"{best_model}_buyers"])[:5]
    print(f"\nMost confused archetype pairs of the five worst worlds (by {best_model}; share of the pair's buyers"
          " predicted as the other; traits = those the two names do not share)")  # fmt: skip
    for r in worst:
        print(f"{r['world']} ({best_model} {r[f'{best_model}_buyers']:.3f} over buyers)")
        for share, a, b, na, nb in r["pairs"][: args.pairs]:
            differ = ", ".join(sorted(trait_labels(a) ^ trait_labels(b)))
            print(f"  {share:.0%}  {a} ({na}) <-> {b} ({nb})  differ in: {differ}")

    by_trait: dict[str, list[float]] = defaultdict(list)
    for _, share, _, _, differ in pair_rows:
        if len(differ) == 1:
            by_trait[next(iter(differ))].append(share)
    if not by_trait:
        print("\nNo pair of archetypes differs in one planted trait only.")
    else:
        print_table(
            f"Pairs that differ in one planted trait only ({best_model}, all worlds): confusion by that trait",
            [
                (t, len(v), f"{statistics.median(v):.0%}", f"{max(v):.0%}")
                for t, v in sorted(by_trait.items(), key=lambda kv: -statistics.median(kv[1]))
            ],  # fmt: skip
            ("trait", "pairs", "median confusion", "worst"),
        )
    print(f"\nCPU {time.process_time() - started_cpu:.0f} s (one thread)")


if __name__ == "__main__":
    main()
