"""The clustering's feature space: which profile columns, their transforms, imputation, scaling and weights."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from segmentation_pipeline.contracts import enums

if TYPE_CHECKING:
    from segmentation_pipeline.models.segmentation.model import SegmentModel


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
# Standard scores beyond 3 are clipped: a small group with extreme values (bulk business baskets)
# otherwise dominates every distance, and the silhouette prefers "that group vs everyone else" (k = 2)
# to the other segments (measured on random worlds). Not clipping, or clipping at 5, scored lower on
# the tuning worlds and on the sample world (0.74 against 0.78 at its 8 archetypes; README). Measured
# again with k-means at the true K (benchmarks/tune_segment_encoding.py): not clipping gained on the
# tuning worlds (median ARI over buyers 0.663 against 0.597) but not on the held-out ones (0.720
# against 0.740), and the pipeline's held-out median over buyers fell (0.694 against 0.722).
Z_CLIP: float | None = 3.0
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
# Who answered a survey, has social data, gave an age: 0/1, weight 1 like any trait. The social one
# is constant beside a social source: the features count no account as 0 followers (null only
# when the source is absent), so it moves no distance. Testing the account instead (social_platforms
# 0 or null) was measured on the 20 held-out worlds on 2026-12-02 and not adopted: median ARI over
# buyers 0.700 against 0.722, k within one of K in 8 of 20 against 12 (benchmarks/README.md; commit b6b8371).
# It stays as it is, rather than dropped: a column fewer changes the null's shuffles and so k.
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
    clip: float | None = Z_CLIP  # numeric only: standard scores clipped to +-clip (None: not clipped)

    def expr(self) -> pl.Expr:
        if self.kind == "onehot":
            raw = (pl.col(self.sources[0]) == self.category).cast(pl.Float64).fill_null(0.0)
        elif self.kind == "missing":
            raw = pl.all_horizontal([pl.col(s).is_null() for s in self.sources]).cast(pl.Float64)
        else:
            raw = transformed(self.sources[0], self.transform).fill_null(self.impute)
            z = (raw - self.mean) / self.scale
            if self.clip is not None:
                z = z.clip(-self.clip, self.clip)
            return (z * self.weight).cast(pl.Float32).alias(self.name)
        return ((raw - self.mean) / self.scale * self.weight).cast(pl.Float32).alias(self.name)


def transformed(column: str, transform: str) -> pl.Expr:
    if transform == "ordinal":
        return pl.col(column).replace_strict(ORDINALS[column], default=None, return_dtype=pl.Float64)
    if transform == "log1p":
        return pl.col(column).clip(lower_bound=0.0).log1p()
    if transform == "sqrt":
        return pl.col(column).clip(lower_bound=0.0).sqrt()
    return pl.col(column)


def learn_encoding(sample: pl.DataFrame, top_categories: int = 12) -> list[EncodedColumn]:
    """Imputation values and scaling parameters learnt on the (prepared) fit sample."""
    columns: list[EncodedColumn] = []
    weights = trait_weights()
    for name, transform, imputation, _ in NUMERIC_FEATURES:
        values = sample.select(transformed(name, transform).cast(pl.Float64)).to_series()
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
                clip=Z_CLIP,
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


def map_centroids(
    model: SegmentModel, columns: list[EncodedColumn], centroids: list[list[float]] | None = None
) -> np.ndarray:
    """The model's centroids (or other points of its space, e.g. sub-centroids) in another encoding.

    Each encoded value is undone to the unscaled feature (value / weight * scale + mean) and
    re-encoded with the new parameters; when the transform changed (e.g. recency from log1p to
    sqrt with model version 2) the old one is inverted and the new one applied. A column the old
    model lacked, or whose transform cannot be converted, sits at the new mean (0).
    """
    old = {c.name: i for i, c in enumerate(model.columns)}
    points = model.centroids if centroids is None else centroids
    centroids = np.asarray(points, dtype=np.float64).reshape(len(points), len(model.columns))
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
