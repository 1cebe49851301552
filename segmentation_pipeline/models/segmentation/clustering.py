"""Behavioural segments: feature matrix, k-means with the choice of k, stable ids across runs, explanations.

Design, in short:
- Prospects (no counted order) get the reserved segment 0: they have no purchase behaviour
  (recency, channel shares, basket are undefined), so clustering them would spend one of the k
  on a trivial group and distort scaling and silhouette. Buyers are clustered.
- Features: log1p for money and counts, square root for recency, shares as they are, ordered
  answers as ordinals, survey answers one-hot, then standard scores clipped to +-3. Every trait
  weighs the same: the columns that measure one trait together (the three channel shares, the
  three social columns, the five importances) share its weight (1/sqrt(columns) each). The hand
  weights this replaced were tuned on the sample world and merged archetypes of other worlds;
  equal traits were chosen by measurement over random worlds (benchmarks/bench_segment_quality.py,
  README). Missing values are imputed (zero where absence means "none": no ticket, no social
  account; median otherwise) and missing indicators say who answered the survey or has social
  data, so nobody is dropped. A source that is entirely null gives constant columns, which do not
  move any distance.
- Fit sample: the `fit_sample_size` buyers with the smallest seeded hash of their id (stable from
  day to day); silhouette on `silhouette_sample_size` of them. k is chosen in [k_min, k_max] by
  the silhouette relative to a null, among the k whose smallest segment holds at least
  `min_segment_share` of the sample (none eligible: the most balanced k). The null is the same
  silhouette sample with every column shuffled on its own (`null_copies` copies; marginals kept,
  joint structure gone), clustered at the same k: the score is silhouette / null silhouette. A raw
  silhouette favours k = 2 whenever one group sits far from the rest, and k-means on structureless
  data of this dimension scores 0.05 at k = 2 and 0.035 at k = 20 anyway; relative to that null the
  choice was better on the tuning worlds (benchmarks/tune_segment_k.py, README). The null fits
  run in a second thread beside the data search. Each k of the search gets `search_n_init`
  k-means restarts: the silhouette judges the partition k-means found, and with too few restarts a
  poor local optimum at one k (or a lucky one at k = 2) decides the choice. At a refit the previous
  k is kept unless another's score is more than `k_hysteresis` (a fraction) higher. Fewer than `min_buyers_to_cluster`
  buyers: one segment.
- Daily runs reuse the persisted `SegmentModel` (no refit) unless the refit cadence is due
  (`refit_every_days`, default 7) or drift passes a threshold. Drift = relative increase of the
  buyers' mean distance to their assigned centroid since the fit (default 0.25), or total variation
  distance between today's segment shares and the fit-time shares (default 0.10).
- A refit is warm-started from the previous centroids (mapped into the new scaling) when k is
  unchanged, and aligned to the previous segments by Hungarian matching of centroids, accepted
  within `match_relative_cutoff` x the median distance between the new centroids: matched
  segments keep their id, new ones get ids from `next_id` (biggest first), and ids of segments
  that disappear are retired for good (`next_id` only grows; 0 is never issued).
- Deterministic for a seed, whatever the input row order.
"""

from __future__ import annotations

import json
import math
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date

import numpy as np
import polars as pl
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_limits

from segmentation_pipeline.contracts import enums
from segmentation_pipeline.models.money import format_money

# 3: every trait weighs the same; 4: k by silhouette relative to a shuffled null (older models are refitted).
MODEL_VERSION = 4
PROSPECT_SEGMENT_ID = 0  # reserved: never issued by next_id

# Ordered answers. influence_tier is not a clustering feature (followers say it more finely) but is
# typed here for the explanations.
ORDINALS: dict[str, dict[str, float]] = {
    "web_savviness": {"low": 0.0, "average": 1.0, "high": 2.0},
    "income_band": {"lt_20k": 0.0, "20k_40k": 1.0, "40k_70k": 2.0, "70k_100k": 3.0, "gt_100k": 4.0},
    "influence_tier": {"none": 0.0, "nano": 1.0, "micro": 2.0, "mid": 3.0, "macro": 4.0},
}

# (column, transform, imputation, trait). Every trait weighs the same: the columns that measure one
# trait together (the three channel shares, the three social columns, the five importances) share
# its weight (1/sqrt(columns) each, so the trait's spread in distance is that of one standardised
# column). Hand-set weights per feature were tuned on the sample world and did not carry over to
# worlds with other traits (a random world that differs in basket size or returns was merged);
# equal traits, measured over many random worlds (benchmarks/bench_segment_quality.py), did.
NUMERIC_FEATURES: list[tuple[str, str, str, str]] = [
    # Square root, not log: log stretches the first weeks (5 and 50 days are the same active
    # customer) and squeezes the gap that tells a lapsed customer (2 months vs 1.5 years).
    ("recency_days", "sqrt", "median", "recency"),
    ("frequency", "log1p", "median", "frequency"),
    ("mean_days_between_orders", "log1p", "median", "frequency"),
    ("avg_order_value", "log1p", "median", "basket"),
    ("tenure_days", "log1p", "median", "tenure"),
    ("share_online", "identity", "median", "channel"),
    ("share_store", "identity", "median", "channel"),
    ("share_phone", "identity", "median", "channel"),
    ("occasion_share", "identity", "zero", "occasion"),
    ("discount_share", "identity", "zero", "discount"),
    ("brand_concentration", "identity", "median", "brand"),
    ("return_rate", "identity", "zero", "returns"),
    ("cancel_rate", "identity", "zero", "cancellations"),
    ("late_payment_share", "identity", "zero", "payment"),
    ("mean_days_late", "log1p", "zero", "payment"),
    # No ticket means no effort; no social account seen means no reach.
    ("total_effort", "log1p", "zero", "service"),
    ("unresolved_tickets", "log1p", "zero", "service"),
    ("social_followers", "log1p", "zero", "social"),
    ("engagement_rate", "identity", "zero", "social"),
    ("brand_mentions_90d", "log1p", "zero", "social"),
    ("age", "identity", "median", "age"),
    ("web_savviness", "ordinal", "median", "web_savviness"),
    ("income_band", "ordinal", "median", "income"),
    *[(c, "identity", "median", "importance") for c in enums.IMPORTANCE_COLUMNS],
    ("satisfaction", "identity", "median", "satisfaction"),
    ("nps", "identity", "median", "satisfaction"),
]
Z_CLIP = 3.0  # standard scores are clipped to +-3 (see EncodedColumn.expr)
# One-hot answers: 0/1 times the weight, so two different answers are 1 apart (as one standard
# deviation of a numeric trait).
ONE_HOT_WEIGHT = 1.0 / math.sqrt(2.0)
ONE_HOT_FEATURES: dict[str, list[str]] = {
    "main_motivation": enums.MOTIVATIONS,
    "main_barrier": enums.BARRIERS,
    "discovery_channel": enums.DISCOVERY_CHANNELS,
    "brand_perception": enums.BRAND_PERCEPTIONS,
}
SURVEY_COLUMNS = [
    "main_motivation",
    "main_barrier",
    "discovery_channel",
    "brand_perception",
    *enums.IMPORTANCE_COLUMNS,
    "satisfaction",
    "nps",
]
# Who answered a survey, has social data, gave an age: 0/1, weight 1 like any trait.
MISSING_INDICATORS: dict[str, list[str]] = {
    "survey": SURVEY_COLUMNS,
    "social": ["social_followers"],
    "age": ["age"],
}


def trait_weights() -> dict[str, float]:
    """Weight of each numeric column: 1/sqrt(columns of its trait), so that every trait weighs one."""
    counts: dict[str, int] = {}
    for _, _, _, trait in NUMERIC_FEATURES:
        counts[trait] = counts.get(trait, 0) + 1
    return {name: 1.0 / math.sqrt(counts[trait]) for name, _, _, trait in NUMERIC_FEATURES}


# Every column the segment logic reads, with its type; missing ones are added as nulls.
PROFILE_SCHEMA: dict[str, type[pl.DataType] | pl.DataType] = {
    "customer_id": pl.String,
    **{c: pl.Float64 for c, t, _, _ in NUMERIC_FEATURES if t != "ordinal"},
    **{c: pl.String for c in ORDINALS},
    **{c: pl.String for c in ONE_HOT_FEATURES},
    **{
        c: pl.Float64
        for c in [
            "purchase_days",
            "monetary",
            "margin",
            "service_contacts",
            "mean_effort_score",
            "cost_to_serve",
            "social_platforms",
            "r_score",
            "f_score",
            "m_score",
            "p_alive",
            "expected_orders_12m",
            "clv_12m",
        ]
    },
    **{
        c: pl.String
        for c in [
            "preferred_channel",
            "top_category",
            "top_brand",
            "gender",
            "acquisition_channel",
            "rfm_segment",
            "lifecycle_stage",
            "risk_class",
            "volume_class",
            "loyalty_class",
            "clv_tier",
        ]
    },
}


def prepare_profile(profile: pl.DataFrame, keep_extra: bool = True) -> pl.DataFrame:
    """The profile with every column the segment logic reads, typed (other columns kept if asked).

    Missing columns become nulls and categoricals become strings, so an absent optional source
    (no survey, no social data) never breaks the run.
    """
    exprs = []
    for name, dtype in PROFILE_SCHEMA.items():
        if name in profile.columns:
            expr = pl.col(name).cast(dtype, strict=False)
            if dtype == pl.Float64:
                expr = expr.fill_nan(None)
            exprs.append(expr)
        else:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
    extra = [c for c in profile.columns if c not in PROFILE_SCHEMA] if keep_extra else []
    return profile.select(*exprs, *extra)


def ensure_profile_columns(profile: pl.DataFrame) -> pl.DataFrame:
    """The profile itself when it already has every column, else its prepared version."""
    if all(name in profile.columns for name in PROFILE_SCHEMA):
        return profile
    return prepare_profile(profile)


def is_prospect() -> pl.Expr:
    """A prospect has no counted order (frequency null or 0)."""
    return pl.col("frequency").fill_null(0) <= 0


@dataclass(frozen=True)
class SegmentationConfig:
    """Knobs of the segmentation; defaults are the documented production values."""

    k_min: int = 2
    k_max: int = 20
    min_segment_share: float = 0.02  # a k whose smallest segment is below this is not eligible
    fit_sample_size: int = 20_000
    silhouette_sample_size: int = 5_000
    n_init: int = 3  # k-means restarts for the chosen k
    # k-means restarts per k during the search: with 3, a poor local optimum at one k sometimes
    # decided the choice of k (measured on generated data); 5 costs ~1.3 s more on 1M customers.
    search_n_init: int = 5
    search_max_iter: int = 100  # k-means iterations per k during the search
    # Shuffled copies of the silhouette sample clustered at every k for the null silhouette, and
    # k-means restarts on each (the null curve is smooth in k; three copies steady it).
    null_copies: int = 3
    null_n_init: int = 3
    null_sample_size: int = 5_000  # the first this many of the silhouette sample are shuffled
    random_state: int = 42
    refit_every_days: int = 7
    # Drift: relative increase of the mean distance to the assigned centroid since the fit
    # (0.25 = customers sit 25% further from their centroids than when the model was fitted) ...
    drift_threshold: float = 0.25
    # ... or total variation distance between today's segment shares and the fit-time shares
    # (0.10 = a tenth of the buyers would have to change segment).
    share_shift_threshold: float = 0.10
    # Hungarian matching accepts a pair of centroids when their distance is at most this fraction
    # of the median distance between today's centroids.
    match_relative_cutoff: float = 0.5
    # At a refit, the previous k is kept unless another k's score (silhouette / null silhouette)
    # is more than this fraction higher.
    k_hysteresis: float = 0.1
    top_categories: int = 12
    min_buyers_to_cluster: int = 20  # fewer buyers than this: one segment, nothing to split
    force_refit: bool = False


@dataclass
class EncodedColumn:
    """One column of the feature matrix: value = (fill_null(transform(source)) - mean) / scale * weight."""

    name: str
    kind: str  # numeric | onehot | missing
    sources: list[str]
    transform: str = "identity"  # identity | log1p | sqrt | ordinal (numeric only)
    category: str | None = None  # onehot only
    impute: float = 0.0
    mean: float = 0.0
    scale: float = 1.0
    weight: float = 1.0

    def expr(self) -> pl.Expr:
        if self.kind == "onehot":
            raw = (pl.col(self.sources[0]) == self.category).cast(pl.Float64).fill_null(0.0)
        elif self.kind == "missing":
            raw = pl.all_horizontal([pl.col(s).is_null() for s in self.sources]).cast(pl.Float64)
        else:
            raw = _transformed(self.sources[0], self.transform).fill_null(self.impute)
            # Standard scores beyond 3 are clipped: a small group with extreme values (bulk
            # business baskets) otherwise dominates every distance, and the silhouette prefers
            # "that group vs everyone else" (k = 2) to the other segments (measured on random worlds).
            z = ((raw - self.mean) / self.scale).clip(-Z_CLIP, Z_CLIP)
            return (z * self.weight).cast(pl.Float32).alias(self.name)
        return ((raw - self.mean) / self.scale * self.weight).cast(pl.Float32).alias(self.name)


def _transformed(column: str, transform: str) -> pl.Expr:
    if transform == "ordinal":
        return pl.col(column).replace_strict(ORDINALS[column], default=None, return_dtype=pl.Float64)
    if transform == "log1p":
        return pl.col(column).clip(lower_bound=0.0).log1p()
    if transform == "sqrt":
        return pl.col(column).clip(lower_bound=0.0).sqrt()
    return pl.col(column)


@dataclass
class SegmentModel:
    """Everything needed to assign customers tomorrow exactly as today; persisted as JSON."""

    columns: list[EncodedColumn]
    centroids: list[list[float]]
    segment_ids: list[int]
    next_id: int
    fitted_at: str  # ISO date of the run that fitted it (the analysis date, not the wall clock)
    k: int
    k_scores: dict[int, float] = field(default_factory=dict)  # score of the choice per k: silhouette / null
    k_silhouette: dict[int, float] = field(default_factory=dict)  # silhouette per k tried
    k_null_silhouette: dict[int, float] = field(default_factory=dict)  # silhouette of shuffled copies per k
    k_min_share: dict[int, float] = field(default_factory=dict)  # smallest segment share per k
    fit_mean_distance: float = 0.0
    fit_shares: dict[int, float] = field(default_factory=dict)  # segment id -> share of buyers
    random_state: int = 42
    version: int = MODEL_VERSION

    @property
    def features(self) -> list[str]:
        return [c.name for c in self.columns]

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SegmentModel:
        data = json.loads(text)
        data["columns"] = [EncodedColumn(**c) for c in data["columns"]]
        for key in ("k_scores", "k_silhouette", "k_null_silhouette", "k_min_share", "fit_shares"):
            data[key] = {int(k): v for k, v in data.get(key, {}).items()}  # JSON keys are strings
        return cls(**data)

    def encode(self, profile: pl.DataFrame) -> np.ndarray:
        """The feature matrix (float32, one row per profile row) in this model's space."""
        if not self.columns:
            return np.zeros((profile.height, 0), dtype=np.float32)
        return np.ascontiguousarray(profile.select([c.expr() for c in self.columns]).to_numpy())

    def assign(self, profile: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Segment id of each row's nearest centroid, and the distance to it."""
        labels, distances = _nearest_in_chunks(profile, self.columns, np.asarray(self.centroids, np.float32))
        ids = np.asarray(self.segment_ids, dtype=np.int64)
        return (ids[labels] if ids.size else np.zeros(profile.height, dtype=np.int64)), distances


def _nearest_in_chunks(
    profile: pl.DataFrame, columns: list[EncodedColumn], centroids: np.ndarray, chunk: int = 200_000
) -> tuple[np.ndarray, np.ndarray]:
    """Encode and assign slice by slice, so a million customers never sit in memory as one matrix."""
    labels = np.zeros(profile.height, dtype=np.int64)
    distances = np.zeros(profile.height, dtype=np.float64)
    exprs = [c.expr() for c in columns]
    for start in range(0, profile.height, chunk):
        x = profile.slice(start, chunk).select(exprs).to_numpy()
        labels[start : start + x.shape[0]], distances[start : start + x.shape[0]] = nearest_centroid(
            x, centroids
        )
    return labels, distances


@dataclass
class SegmentationResult:
    assignment: pl.DataFrame  # customer_id, segment_id (prospects: 0)
    model: SegmentModel
    k_scores: dict[int, float]
    refitted: bool
    reason: str
    ari_vs_previous: float | None
    drift: float  # relative increase of mean distance to the assigned centroid vs fit time
    share_shift: float  # total variation distance of segment shares vs fit time


def nearest_centroid(
    x: np.ndarray, centroids: np.ndarray, chunk: int = 200_000
) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest centroid and the Euclidean distance to it, in chunks to bound memory."""
    n = x.shape[0]
    labels = np.zeros(n, dtype=np.int64)
    distances = np.zeros(n, dtype=np.float64)
    if n == 0 or centroids.shape[0] == 0:
        return labels, distances
    c_sq = (centroids.astype(np.float64) ** 2).sum(axis=1)
    for start in range(0, n, chunk):
        block = x[start : start + chunk].astype(np.float64)
        d2 = (block**2).sum(axis=1)[:, None] - 2.0 * block @ centroids.T.astype(np.float64) + c_sq[None, :]
        idx = d2.argmin(axis=1)
        labels[start : start + chunk] = idx
        distances[start : start + chunk] = np.sqrt(np.maximum(d2[np.arange(len(idx)), idx], 0.0))
    return labels, distances


def learn_encoding(sample: pl.DataFrame, top_categories: int = 12) -> list[EncodedColumn]:
    """Imputation values and scaling parameters learnt on the (prepared) fit sample."""
    columns: list[EncodedColumn] = []
    weights = trait_weights()
    for name, transform, imputation, _ in NUMERIC_FEATURES:
        values = sample.select(_transformed(name, transform).cast(pl.Float64)).to_series()
        impute = 0.0 if imputation == "zero" else _finite(values.median(), 0.0)
        filled = values.fill_null(impute)
        std = _finite(filled.std(ddof=0), 0.0)
        # A constant column (e.g. a source that is absent) gets scale 1: it moves no distance.
        columns.append(
            EncodedColumn(
                name=name,
                kind="numeric",
                sources=[name],
                transform=transform,
                impute=impute,
                mean=_finite(filled.mean(), 0.0),
                scale=std if std > 1e-9 else 1.0,
                weight=weights[name],
            )
        )
    for name, categories in ONE_HOT_FEATURES.items():
        for category in categories:
            columns.append(
                EncodedColumn(
                    name=f"{name}={category}",
                    kind="onehot",
                    sources=[name],
                    category=category,
                    weight=ONE_HOT_WEIGHT,
                )
            )
    # Top categories bought: learnt from data (no fixed domain); rare ones are left out.
    counts = sample.get_column("top_category").drop_nulls().value_counts(sort=True, name="n")
    min_count = max(1, int(0.01 * sample.height))
    for row in counts.filter(pl.col("n") >= min_count).head(top_categories).iter_rows(named=True):
        columns.append(
            EncodedColumn(
                name=f"top_category={row['top_category']}",
                kind="onehot",
                sources=["top_category"],
                category=row["top_category"],
                weight=ONE_HOT_WEIGHT,
            )
        )
    for name, sources in MISSING_INDICATORS.items():
        columns.append(EncodedColumn(name=f"missing:{name}", kind="missing", sources=sources, weight=1.0))
    return columns


def _finite(value: object, default: float) -> float:
    if value is None:
        return default
    value = float(value)  # type: ignore[arg-type]
    return value if math.isfinite(value) else default


def map_centroids(model: SegmentModel, columns: list[EncodedColumn]) -> np.ndarray:
    """The model's centroids expressed in another encoding (e.g. a refit's new scaling).

    Each encoded value is undone to the unscaled feature (value / weight * scale + mean) and
    re-encoded with the new parameters; when the transform changed (e.g. recency from log1p to
    sqrt with model version 2) the old one is inverted and the new one applied. A column the old
    model lacked, or whose transform cannot be converted, sits at the new mean (0).
    """
    old = {c.name: i for i, c in enumerate(model.columns)}
    centroids = np.asarray(model.centroids, dtype=np.float64).reshape(
        len(model.centroids), len(model.columns)
    )
    mapped = np.zeros((centroids.shape[0], len(columns)), dtype=np.float64)
    for j, col in enumerate(columns):
        i = old.get(col.name)
        if i is None:
            continue
        prev = model.columns[i]
        if prev.transform != col.transform and not {prev.transform, col.transform} <= _INVERTIBLE:
            continue
        raw = centroids[:, i] / prev.weight * prev.scale + prev.mean if prev.weight else prev.mean
        if prev.transform != col.transform:
            raw = _apply_transform(
                _invert_transform(np.asarray(raw, np.float64), prev.transform), col.transform
            )
        mapped[:, j] = (raw - col.mean) / col.scale * col.weight
    return mapped


_INVERTIBLE = {"identity", "log1p", "sqrt"}


def _invert_transform(values: np.ndarray, transform: str) -> np.ndarray:
    if transform == "log1p":
        return np.expm1(values)
    if transform == "sqrt":
        return np.square(np.maximum(values, 0.0))
    return values


def _apply_transform(values: np.ndarray, transform: str) -> np.ndarray:
    if transform == "log1p":
        return np.log1p(np.maximum(values, 0.0))
    if transform == "sqrt":
        return np.sqrt(np.maximum(values, 0.0))
    return values


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


def silhouette_from_distances(distances: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette from a precomputed distance matrix (computed once, reused for every k)."""
    n = labels.shape[0]
    k = int(labels.max()) + 1 if n else 0
    if k < 2 or n < 3:
        return float("nan")
    onehot = np.zeros((n, k), dtype=distances.dtype)
    onehot[np.arange(n), labels] = 1.0
    sums = distances @ onehot  # sum of distances from each point to each cluster
    sizes = onehot.sum(axis=0)
    own = sizes[labels]
    a = sums[np.arange(n), labels] / np.maximum(own - 1, 1)
    mean_to = sums / np.maximum(sizes, 1)
    mean_to[np.arange(n), labels] = np.inf
    mean_to[:, sizes == 0] = np.inf
    b = mean_to.min(axis=1)
    s = np.where(own > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    return float(s.mean())


def null_silhouettes(x: np.ndarray, ks: range, config: SegmentationConfig) -> dict[int, float]:
    """Mean silhouette, per k, of k-means on copies of `x` whose columns are shuffled independently.

    Each column keeps its distribution (zero-inflated shares, 0/1 answers) but no structure links
    the columns, so this is what the silhouette reaches at each k on data without segments.
    """
    rng = np.random.default_rng([config.random_state, 7])
    totals = dict.fromkeys(ks, 0.0)
    with threadpool_limits(limits=1):  # this thread's own OpenMP setting (the caller's does not carry over)
        _null_fits(x, ks, config, rng, totals)
    return totals


def _null_fits(
    x: np.ndarray, ks: range, config: SegmentationConfig, rng: np.random.Generator, totals: dict[int, float]
) -> None:
    for _ in range(config.null_copies):
        shuffled = np.ascontiguousarray(
            np.column_stack([rng.permutation(col) for col in x.T]), dtype=np.float32
        )
        distances = _pairwise_distances(shuffled)
        for k in ks:
            labels = _kmeans(
                shuffled, k, None, config.null_n_init, config.search_max_iter, config.random_state
            ).labels_
            totals[k] += silhouette_from_distances(distances, labels) / config.null_copies


def _pairwise_distances(x: np.ndarray) -> np.ndarray:
    sq = (x.astype(np.float64) ** 2).sum(axis=1)
    d2 = sq[:, None] - 2.0 * (x.astype(np.float64) @ x.T.astype(np.float64)) + sq[None, :]
    return np.sqrt(np.maximum(d2, 0.0)).astype(np.float32)


def _fit_model(
    buyers: pl.DataFrame,
    previous: SegmentModel | None,
    previous_assignment: pl.DataFrame | None,
    as_of: date,
    config: SegmentationConfig,
) -> tuple[SegmentModel, np.ndarray, np.ndarray]:
    """Choose k, fit k-means on a sample, align ids with the previous model.

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

    n_distinct = np.unique(x_fit, axis=0).shape[0]
    k_hi = min(config.k_max, n_distinct - 1) if n >= config.min_buyers_to_cluster else 0
    k_scores: dict[int, float] = {}
    k_silhouette: dict[int, float] = {}
    k_null: dict[int, float] = {}
    k_min_share: dict[int, float] = {}
    fits: dict[int, KMeans] = {}
    if k_hi >= config.k_min:
        sil_idx = rng.permutation(x_fit.shape[0])[: config.silhouette_sample_size]
        distances = _pairwise_distances(x_fit[sil_idx])  # once, reused for every k
        # The null fits run in a second thread while this one searches the data (k-means and the
        # matrix products release the GIL): on two cores the null adds little wall time.
        with ThreadPoolExecutor(max_workers=1) as pool:
            null = pool.submit(
                null_silhouettes,
                x_fit[sil_idx[: config.null_sample_size]],
                range(config.k_min, k_hi + 1),
                config,
            )
            for k in range(config.k_min, k_hi + 1):
                # The search runs short k-means per k; only the chosen k gets the full n_init.
                km = _kmeans(
                    x_fit, k, warm, config.search_n_init, config.search_max_iter, config.random_state
                )
                labels = km.labels_
                fits[k] = km
                k_min_share[k] = float(np.bincount(labels, minlength=k).min() / labels.shape[0])
                k_silhouette[k] = round(silhouette_from_distances(distances, labels[sil_idx]), 6)
            k_null = null.result()
        for k in fits:
            k_scores[k] = round(k_silhouette[k] / k_null[k], 6) if k_null[k] > 0 else float("nan")
    if fits:
        eligible = [
            k for k in fits if k_min_share[k] >= config.min_segment_share and not math.isnan(k_scores[k])
        ]
        # No eligible k: take the most balanced one rather than fail the run.
        best_k = (
            max(eligible, key=lambda k: (k_scores[k], -k))
            if eligible
            else max(fits, key=lambda k: (k_min_share[k], -k))
        )
        # Hysteresis: keep the previous k unless another k is clearly better, so that two nearly
        # equal silhouettes do not make segments merge and split from one refit to the next.
        previous_k = previous.k if previous is not None else _k_of(previous_assignment)
        if previous_k in eligible and k_scores[previous_k] * (1.0 + config.k_hysteresis) >= k_scores[best_k]:
            best_k = previous_k
        final = _kmeans(x_fit, best_k, warm, config.n_init, 300, config.random_state)
        centroids = min(final, fits[best_k], key=lambda km: km.inertia_).cluster_centers_
    else:  # too few distinct buyers to split: one segment
        centroids = x_fit.mean(axis=0, keepdims=True) if x_fit.shape[0] else np.zeros((0, len(columns)))

    labels, dist = _nearest_in_chunks(buyers, columns, centroids.astype(np.float32))
    sizes = np.bincount(labels, minlength=centroids.shape[0])
    order = sorted(range(centroids.shape[0]), key=lambda i: (-sizes[i], i))  # new ids: biggest first
    prev_ids = previous.segment_ids if previous is not None and warm is not None else []
    max_distance = config.match_relative_cutoff * _median_pairwise(centroids)
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
        fit_mean_distance=float(dist.mean()) if n else 0.0,
        fit_shares={ids[i]: float(sizes[i] / max(n, 1)) for i in range(len(ids))},
        random_state=config.random_state,
    )
    return model, np.asarray(ids, dtype=np.int64)[labels] if ids else np.zeros(n, dtype=np.int64), dist


def _k_of(assignment: pl.DataFrame | None) -> int | None:
    if assignment is None:
        return None
    return assignment.filter(pl.col("segment_id") != PROSPECT_SEGMENT_ID).get_column("segment_id").n_unique()


def align_by_overlap(
    customer_ids: pl.Series, labels: np.ndarray, previous_assignment: pl.DataFrame, order: list[int]
) -> tuple[list[int], int]:
    """Segment ids for new clusters from the customers they share with the previous segments.

    Hungarian matching on the overlap counts; a pair is accepted when most of the new cluster's
    returning customers came from that segment. Others get ids above every previous id (ids retired
    before the previous run are unknown here: keep the model to guarantee they are never reused).
    """
    previous = previous_assignment.filter(pl.col("segment_id") != PROSPECT_SEGMENT_ID)
    k = int(labels.max()) + 1 if labels.size else 0
    ids: list[int | None] = [None] * k
    previous_ids = sorted(previous.get_column("segment_id").unique().to_list())
    counts = (
        pl.DataFrame({"customer_id": customer_ids, "label": labels})
        .join(previous.select("customer_id", "segment_id"), on="customer_id")
        .group_by("label", "segment_id")
        .len()
    )
    if counts.height and k:
        overlap = np.zeros((k, len(previous_ids)))
        column = {sid: j for j, sid in enumerate(previous_ids)}
        for row in counts.iter_rows(named=True):
            overlap[row["label"], column[row["segment_id"]]] = row["len"]
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


def _kmeans(x: np.ndarray, k: int, warm: np.ndarray | None, n_init: int, max_iter: int, seed: int) -> KMeans:
    """k-means warm-started from the previous centroids when k is unchanged (keeps the refit close)."""
    warm_start = warm is not None and warm.shape[0] == k
    km = KMeans(
        n_clusters=k,
        init=warm.astype(x.dtype) if warm_start else "k-means++",
        n_init=1 if warm_start else n_init,
        max_iter=max_iter,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate points / early stop are fine here
        return km.fit(x)


def _median_pairwise(centroids: np.ndarray) -> float:
    k = centroids.shape[0]
    if k < 2:
        return math.inf  # a single centroid matches whatever single previous one is closest
    d = np.sqrt(((centroids[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2))
    return float(np.median(d[np.triu_indices(k, 1)]))


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


# --- Explanations: what sets each segment apart from the whole base --------------------------------

# (column, label, format, z on log1p scale, redundancy group). One trait per group makes the top N.
NUMERIC_TRAITS: list[tuple[str, str, str, bool, str]] = [
    ("recency_days", "days since last order", "days", True, "recency"),
    ("p_alive", "probability still active", "pct", False, "recency"),
    ("frequency", "orders", "count", True, "frequency"),
    ("monetary", "revenue per customer", "money", True, "monetary"),
    ("avg_order_value", "average basket", "money", True, "basket"),
    ("mean_days_between_orders", "days between orders", "days", True, "cadence"),
    ("tenure_days", "days as a customer", "days", True, "tenure"),
    ("share_online", "orders online", "pct", False, "channel"),
    ("share_store", "orders in store", "pct", False, "channel"),
    ("share_phone", "orders by phone", "pct", False, "channel"),
    ("occasion_share", "orders for an occasion", "pct", False, "occasion"),
    ("discount_share", "orders with a discount", "pct", False, "discount"),
    ("brand_concentration", "spend on the favourite brand", "pct", False, "brand"),
    ("return_rate", "lines returned", "pct", False, "returns"),
    ("cancel_rate", "lines cancelled", "pct", False, "returns"),
    ("late_payment_share", "orders paid late", "pct", False, "payment"),
    ("mean_days_late", "days late when paying late", "days", True, "payment"),
    ("service_contacts", "service contacts", "count", True, "service"),
    ("mean_effort_score", "service effort score", "score10", False, "service"),
    ("cost_to_serve", "cost to serve", "money", True, "service"),
    ("social_followers", "social followers", "count", True, "social"),
    ("engagement_rate", "social engagement rate", "pct", False, "social"),
    ("brand_mentions_90d", "brand mentions (90 days)", "count", True, "social"),
    ("age", "age", "years", False, "age"),
    ("importance_price", "importance of price", "score5", False, "imp_price"),
    ("importance_brand", "importance of brand", "score5", False, "imp_brand"),
    ("importance_reviews", "importance of reviews", "score5", False, "imp_reviews"),
    ("importance_features", "importance of features", "score5", False, "imp_features"),
    ("importance_service", "importance of service", "score5", False, "imp_service"),
    ("satisfaction", "satisfaction", "score10", False, "satisfaction"),
    ("nps", "likelihood to recommend", "score10", False, "satisfaction"),
    ("clv_12m", "12-month CLV", "money", False, "clv"),
]
# (column, label, redundancy group)
CATEGORY_TRAITS: list[tuple[str, str, str]] = [
    ("preferred_channel", "preferred channel", "channel"),
    ("top_category", "top category", "category"),
    ("top_brand", "top brand", "brand"),
    ("influence_tier", "influence tier", "social"),
    ("discovery_channel", "found us through", "discovery"),
    ("main_motivation", "main motivation", "motivation"),
    ("main_barrier", "main barrier", "barrier"),
    ("brand_perception", "sees the brand as", "perception"),
    ("web_savviness", "web savviness", "web"),
    ("income_band", "income band", "income"),
    ("gender", "gender", "gender"),
    ("acquisition_channel", "acquired through", "acquisition"),
    ("rfm_segment", "RFM segment", "rfm"),
    ("lifecycle_stage", "lifecycle stage", "lifecycle"),
    ("risk_class", "risk class", "payment"),
    ("volume_class", "volume class", "volume"),
    ("loyalty_class", "loyalty class", "loyalty"),
    ("clv_tier", "CLV tier", "clv"),
]


def format_value(value: float | None, fmt: str, currency: str = "EUR") -> str:
    """A feature value as a person reads it (62%, €45, 30 days, 4.2/5); money in `currency`."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if fmt == "pct":
        return f"{value:.0%}"
    if fmt == "money":
        return format_money(value, currency, whole=True)
    if fmt == "days":
        return f"{value:,.0f} days"
    if fmt == "score5":
        return f"{value:.1f}/5"
    if fmt == "score10":
        return f"{value:.1f}/10"
    if fmt == "years":
        return f"{value:.0f} years"
    return f"{value:,.1f}" if value < 10 else f"{value:,.0f}"


def explain_segments(
    profile_with_segment: pl.DataFrame,
    top_n: int = 5,
    min_support: float = 0.2,
    min_count: int = 5,
    currency: str = "EUR",
) -> pl.DataFrame:
    """Per segment, the features that set it apart from the whole base.

    Numeric features: z = (segment mean - base mean) / base std, on the log1p scale for money and
    counts (medians are shown for those, means otherwise). Categories: share among the segment's
    non-null answers vs the base share; z of that proportion and lift = segment share / base share,
    kept when over-represented (share >= min_support, lift >= 1.2). Survey and social traits use
    only customers who have them. Traits are ranked by |z|, one per redundancy group.
    Returns segment_id, defining_traits (readable text), traits (list of structs).
    """
    df = ensure_profile_columns(profile_with_segment)
    traits: dict[int, list[dict]] = {}
    numeric = [t for t in NUMERIC_TRAITS if t[0] in df.columns]
    z_exprs = [
        (pl.col(c).clip(lower_bound=0.0).log1p() if log else pl.col(c)).cast(pl.Float64).alias(f"z:{c}")
        for c, _, _, log, _ in numeric
    ]
    view = df.select("segment_id", *[pl.col(c).cast(pl.Float64) for c, *_ in numeric], *z_exprs)

    def shown(c: str, log: bool) -> pl.Expr:
        return pl.col(c).median() if log else pl.col(c).mean()

    base = view.select(
        *[shown(c, log).alias(f"v:{c}") for c, _, _, log, _ in numeric],
        *[pl.col(f"z:{c}").mean().alias(f"m:{c}") for c, *_ in numeric],
        *[pl.col(f"z:{c}").std(ddof=0).alias(f"s:{c}") for c, *_ in numeric],
    ).row(0, named=True)
    per_segment = view.group_by("segment_id").agg(
        pl.len().alias("customers"),
        *[shown(c, log).alias(f"v:{c}") for c, _, _, log, _ in numeric],
        *[pl.col(f"z:{c}").mean().alias(f"m:{c}") for c, *_ in numeric],
        *[pl.col(c).count().alias(f"n:{c}") for c, *_ in numeric],
    )
    for row in per_segment.iter_rows(named=True):
        found = traits.setdefault(row["segment_id"], [])
        for c, label, fmt, _, group in numeric:
            std, mean, seg_mean = base[f"s:{c}"], base[f"m:{c}"], row[f"m:{c}"]
            # A trait known for under a fifth of the segment (e.g. days late among the few late payers)
            # says little about the segment.
            enough = row[f"n:{c}"] >= max(min_count, 0.2 * row["customers"])
            if not enough or seg_mean is None or not std or std < 1e-9:
                continue
            z = (seg_mean - mean) / std
            value, base_value = row[f"v:{c}"], base[f"v:{c}"]
            direction = "higher" if z > 0 else "lower"
            found.append(
                {
                    "feature": c,
                    "label": label,
                    "kind": "numeric",
                    "group": group,
                    "category": None,
                    "segment_value": value,
                    "base_value": base_value,
                    "z": z,
                    "lift": None,
                    "text": f"{label} {format_value(value, fmt, currency)} vs {format_value(base_value, fmt, currency)} overall "
                    f"({direction}, {z:+.1f}σ)",
                }
            )
    for c, label, group in CATEGORY_TRAITS:
        if c not in df.columns:
            continue
        counts = (
            df.select("segment_id", pl.col(c).cast(pl.String)).drop_nulls(c).group_by("segment_id", c).len()
        )
        if counts.height == 0:
            continue
        base_counts = counts.group_by(c).agg(pl.col("len").sum().alias("base_n"))
        base_total = float(base_counts.get_column("base_n").sum())
        shares = (
            counts.with_columns(pl.col("len").sum().over("segment_id").alias("seg_total"))
            .join(base_counts, on=c)
            .with_columns(
                (pl.col("len") / pl.col("seg_total")).alias("share"),
                (pl.col("base_n") / base_total).alias("base_share"),
            )
            .filter(
                (pl.col("seg_total") >= min_count)
                & (pl.col("share") >= min_support)
                & (pl.col("share") >= 1.2 * pl.col("base_share"))
                & (pl.col("base_share") < 1.0)
            )
        )
        for row in shares.iter_rows(named=True):
            b = row["base_share"]
            z = (row["share"] - b) / math.sqrt(b * (1.0 - b))
            lift = row["share"] / b
            traits.setdefault(row["segment_id"], []).append(
                {
                    "feature": c,
                    "label": label,
                    "kind": "category",
                    "group": group,
                    "category": row[c],
                    "segment_value": row["share"],
                    "base_value": b,
                    "z": z,
                    "lift": lift,
                    "text": f"{label} = {row[c]}: {row['share']:.0%} vs {b:.0%} overall (×{lift:.1f})",
                }
            )
    rows = []
    for segment_id in sorted(traits):
        ranked = sorted(traits[segment_id], key=lambda t: (-abs(t["z"]), t["feature"], t["category"] or ""))
        top, groups = [], set()
        for trait in ranked:
            if trait["group"] in groups:
                continue
            groups.add(trait["group"])
            top.append({k: v for k, v in trait.items() if k != "group"})
            if len(top) == top_n:
                break
        rows.append(
            {"segment_id": segment_id, "defining_traits": "; ".join(t["text"] for t in top), "traits": top}
        )
    schema = {
        "segment_id": pl.Int64,
        "defining_traits": pl.String,
        "traits": pl.List(
            pl.Struct(
                {
                    "feature": pl.String,
                    "label": pl.String,
                    "kind": pl.String,
                    "category": pl.String,
                    "segment_value": pl.Float64,
                    "base_value": pl.Float64,
                    "z": pl.Float64,
                    "lift": pl.Float64,
                    "text": pl.String,
                }
            )
        ),
    }
    return pl.DataFrame(rows, schema=schema)
