"""Explanations: per segment, the traits that set it apart from the whole base."""

from __future__ import annotations

import math

import polars as pl

from segmentation_pipeline.models.money import format_money
from segmentation_pipeline.models.segmentation.encoding import ensure_profile_columns

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
