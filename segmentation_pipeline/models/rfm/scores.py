"""RFM scoring: recency, frequency and monetary quintile scores (1-5) and eleven named segments.

Polars and NumPy, no Dagster. Input: the customer features frame (customer_id, recency_days, frequency,
monetary, margin). Prospects (frequency 0) are not scored: their scores are null and their
segment is "Prospect".

Scores (1 = worst, 5 = best) are a function of the customer's own value and of the distribution
of values among the n buying customers, nothing else:
    score = floor(5 * (number of buying customers with a strictly worse value) / n) + 1
    R: recency_days (fewer days = better), F: frequency, M: monetary value
Why: customers with equal values must get equal scores (a tie broken by row order or id would
make two identical one-order customers Champions and Hibernating). Each tied group takes the
score of the lowest position it spans, so bins are as balanced as the ties allow and a higher
value never gets a lower score. When most customers have one order, F = 1 for all of them is the
truth (the next frequency then starts high up); quantile cuts on raw values (pd.qcut) would fail
on those ties instead. Values are compared after rounding to 1e-6 so that float noise in sums
(0.1 + 0.2) cannot split a tie.

Monetary value: the run's value basis (features/value_basis.py): `margin` when every counted
order has a known cost, else `revenue` (the features' `monetary`). Called directly with margin
when no buying customer has a known margin, scoring falls back to revenue; a buyer whose margin
alone is unknown gets a null m_score and is segmented on F alone.

Segments are assigned from (R, FM), FM = round-half-up of (F + M) / 2 (= F when M is null), by
the rules of SEGMENT_RULES checked in that fixed order; the first match wins and "Lost" catches
whatever is left, so every buying customer gets exactly one segment (assign_rfm_segments):

    R\\FM   1                2                   3                4                5
    5      New Customers    Potential Loyalist  Loyal Customers  Champions        Champions
    4      Promising        Potential Loyalist  Loyal Customers  Champions        Champions
    3      About To Sleep   About To Sleep      Need Attention   Loyal Customers  Loyal Customers
    2      Hibernating      Hibernating         At Risk          At Risk          At Risk
    1      Lost             Lost                At Risk          Can't Lose Them  Can't Lose Them
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import numpy as np
import polars as pl

PROSPECT = "Prospect"
CATCH_ALL = "Lost"

# (segment, (min R, max R), (min FM, max FM)), checked top to bottom; first match wins.
# Order matters where ranges overlap: the specific cells (Need Attention = R3/FM3, Can't Lose
# Them = R1/FM4-5) come before the broad rules (Loyal Customers, At Risk) that would take them.
SEGMENT_RULES: tuple[tuple[str, tuple[int, int], tuple[int, int]], ...] = (
    ("Champions", (4, 5), (4, 5)),
    ("Can't Lose Them", (1, 1), (4, 5)),
    ("At Risk", (1, 2), (3, 5)),
    ("Need Attention", (3, 3), (3, 3)),
    ("Loyal Customers", (3, 5), (3, 5)),
    ("New Customers", (5, 5), (1, 1)),
    ("Promising", (4, 4), (1, 1)),
    ("Potential Loyalist", (4, 5), (2, 2)),
    ("About To Sleep", (3, 3), (1, 2)),
    ("Hibernating", (2, 2), (1, 2)),
)

# Reporting order (summaries, dashboards): from most to least valuable, then prospects.
SEGMENT_ORDER: tuple[str, ...] = (
    "Champions",
    "Loyal Customers",
    "Potential Loyalist",
    "New Customers",
    "Promising",
    "Need Attention",
    "About To Sleep",
    "At Risk",
    "Can't Lose Them",
    "Hibernating",
    "Lost",
    PROSPECT,
)


def _segment_expr(r: pl.Expr, fm: pl.Expr) -> pl.Expr:
    expr = pl.when(r.is_null()).then(pl.lit(PROSPECT))
    for name, (r_lo, r_hi), (fm_lo, fm_hi) in SEGMENT_RULES:
        expr = expr.when(r.is_between(r_lo, r_hi) & fm.is_between(fm_lo, fm_hi)).then(pl.lit(name))
    return expr.otherwise(pl.lit(CATCH_ALL))


def _quintiles(eligible: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Scores 1-5 of the eligible rows (0 elsewhere): 5 * (share of eligible rows with a strictly
    smaller value), floored, plus one. Larger value = better; equal values, equal scores."""
    rows = np.flatnonzero(eligible)
    values = np.round(value[rows], 6)
    worse = np.searchsorted(np.sort(values), values, side="left")  # rows strictly below each value
    scores = np.zeros(len(eligible), dtype=np.int8)
    scores[rows] = worse * 5 // max(len(rows), 1) + 1
    return scores


def score_rfm(features: pl.DataFrame, monetary: Literal["margin", "revenue"] = "margin") -> pl.DataFrame:
    """customer_id, r_score, f_score, m_score (Int8 1-5, null for prospects), rfm_segment.

    Rows come back in the order of `features`.
    """
    if monetary not in ("margin", "revenue"):
        raise ValueError(f"monetary must be 'margin' or 'revenue', not {monetary!r}")
    buyer = pl.col("frequency") > 0
    value = pl.col("monetary")
    if monetary == "margin" and features.select((buyer & pl.col("margin").is_not_null()).any()).item():
        value = pl.col("margin")

    columns = features.select(
        buyer=buyer.fill_null(False),
        valued=(buyer & value.is_not_null()).fill_null(False),
        # Larger = better: an older last order is worse, so recency enters negated.
        recent=-pl.col("recency_days").cast(pl.Float64).fill_null(0.0),
        frequency=pl.col("frequency").cast(pl.Float64),
        value=value.cast(pl.Float64).fill_null(float("-inf")),
    )
    c = {name: columns[name].to_numpy() for name in columns.columns}
    rankings = {
        "r_score": (c["buyer"], c["recent"]),
        "f_score": (c["buyer"], c["frequency"]),
        "m_score": (c["valued"], c["value"]),
    }
    # NumPy sorts without the GIL: the three rankings share the cores.
    with ThreadPoolExecutor(len(rankings)) as pool:
        scored = dict(zip(rankings, pool.map(lambda args: _quintiles(*args), rankings.values()), strict=True))
    scores = pl.DataFrame(scored).select(
        pl.when(pl.col(s) > 0).then(pl.col(s)).name.keep() for s in ("r_score", "f_score", "m_score")
    )

    return assign_rfm_segments(pl.concat([features.select("customer_id"), scores], how="horizontal"))


def assign_rfm_segments(scores: pl.DataFrame) -> pl.DataFrame:
    """Add rfm_segment to a frame of r_score, f_score, m_score (null R = prospect), per SEGMENT_RULES."""
    fm = (
        pl.when(pl.col("m_score").is_null())
        .then(pl.col("f_score"))
        .otherwise((pl.col("f_score") + pl.col("m_score") + 1) // 2)
    )
    return scores.with_columns(rfm_segment=_segment_expr(pl.col("r_score"), fm))


def summarize_rfm_segments(profile: pl.DataFrame) -> pl.DataFrame:
    """rfm_segment, customers, revenue, margin, share, one row per segment of SEGMENT_ORDER.

    `profile` needs rfm_segment and monetary (and margin, if known). Every segment is listed, with
    zero customers when empty, so dashboards keep stable rows; share is the customer share and
    sums to 1 (null everywhere for an empty profile: 0 of 0 customers is no share). Revenue is the sum of `monetary`; margin sums the
    known margins (0 for an empty segment, null for a segment where none is known).
    """
    margin = pl.col("margin") if "margin" in profile.columns else pl.lit(None, dtype=pl.Float64)
    per_segment = profile.group_by("rfm_segment").agg(
        customers=pl.len().cast(pl.Int64),
        revenue=pl.col("monetary").sum(),
        margin=pl.when(margin.count() > 0).then(margin.sum()),
    )
    order = list(SEGMENT_ORDER)
    # Names outside SEGMENT_ORDER (none today) would be listed last rather than dropped.
    extra = sorted(set(per_segment["rfm_segment"].drop_nulls()) - set(order))
    order += extra
    total = profile.height
    return (
        pl.DataFrame({"rfm_segment": order, "_order": range(len(order))})
        .join(per_segment, on="rfm_segment", how="left")
        .with_columns(
            customers=pl.col("customers").fill_null(0),
            revenue=pl.col("revenue").fill_null(0.0),
            margin=pl.when(pl.col("customers").is_null()).then(0.0).otherwise("margin"),
            share=pl.col("customers").fill_null(0) / total if total else pl.lit(None, dtype=pl.Float64),
        )
        .sort("_order")
        .select("rfm_segment", "customers", "revenue", "margin", "share")
    )
