"""Claims: the facts a persona may state, each with its evidence, and the one sentence plan that tells them.

A claim is a trait of a segment with its value in the segment, its value in the whole base and the
share of the segment's customers it holds for (`support_share`). A persona states a claim only when
it holds (`ClaimConfig`):

- a *share* claim (a per-customer test, e.g. "places at least half of their orders in store") holds
  for at least `support` (default 60%) of the segment's customers whose data says (at least
  `min_known` of them; survey claims at least `min_respondents` respondents);
- a *mode* claim (the segment's most common gender, age band, region, profession, survey answer…)
  holds for at least `support` of those whose value is known (gender: `gender_support`, 65%);
- a *statistic* (median basket, mean 12-month CLV, mean 12-month cost to serve) is stated when it
  differs from the base's by at least `difference` (25%); its support_share is the share of the
  segment's customers on the same side of the base's value;
- a *mixture*: when no buying-role claim holds, two roles that each hold for at least `group_share`
  (25%) of the segment, overlap little (at most 10%) and together cover `support` are told as "two
  groups", never as a median nobody has.

Every claim that holds is one sentence in English and one in French, told in the plan's order
(`PLAN`, the seeds' order: who they are, how they buy, their reach, the five survey questions, what
they cost and bring) by one sentence plan (sentences.py) with two phrasebooks (phrasebook_en.py,
phrasebook_fr.py). Nothing else goes into a narrative, so every sentence is
backed by a row of marts.segment_claims and can be recomputed from marts.customer_profile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

import polars as pl

from segmentation_pipeline.contracts.frames import polars_schema
from segmentation_pipeline.contracts.tables import SEGMENT_CLAIMS


@dataclass(frozen=True)
class ClaimConfig:
    support: float = 0.6  # share of the segment a share or mode claim must hold for
    gender_support: float = 0.65  # a gendered persona needs one gender this strong, else neutral
    difference: float = 0.25  # relative gap to the base for a statistic to be stated
    group_share: float = 0.25  # each group of a mixture
    max_overlap: float = 0.10  # customers in both groups of a mixture, at most
    min_known: int = 5  # customers whose data says, at least
    min_respondents: int = 5  # survey respondents, at least


# Share claims: key -> (column, operator, threshold). The threshold "base_median_x2" is twice the
# base's median of the column. `SURVEY_SHARE` claims need respondents; `PROSPECT_ONLY` are told of
# segment 0 only (customers without a counted order); `BUYER_ONLY` never of segment 0.
SHARE_CLAIMS: dict[str, tuple[str, str, float | str]] = {
    "buys_in_store": ("share_store", ">=", 0.5),
    "buys_online": ("share_online", ">=", 0.5),
    "buys_by_phone": ("share_phone", ">=", 0.5),
    "repeat_buyer": ("frequency", ">=", 2),
    "one_order": ("frequency", "==", 1),
    "frequent": ("mean_days_between_orders", "<=", 45),
    "lapsed": ("recency_days", ">=", 180),
    "occasion_buyer": ("occasion_share", ">=", 0.4),
    "discount_driven": ("discount_share", ">=", 0.2),
    "big_basket": ("avg_order_value", ">=", "base_median_x2"),
    "returns_often": ("return_rate", ">=", 0.15),
    "late_payer": ("late_payment_share", ">=", 0.3),
    "social_reach": ("social_followers", ">=", 1000),
    "no_social": ("social_followers", "<", 100),
    "no_service_need": ("service_contacts", "==", 0),
    "high_touch": ("service_contacts", ">=", 2),
    "costs_more_than_brings": ("cost_exceeds_value_12m", "==", 1),
    "factor_price": ("importance_price", ">=", 4),
    "factor_brand": ("importance_brand", ">=", 4),
    "factor_reviews": ("importance_reviews", ">=", 4),
    "factor_features": ("importance_features", ">=", 4),
    "factor_service": ("importance_service", ">=", 4),
    "ordered_and_returned": ("cancel_rate", "known", 0),
    "never_ordered": ("cancel_rate", "unknown", 0),
}
CHANNEL_CLAIMS = ("buys_in_store", "buys_online", "buys_by_phone")
SURVEY_SHARE = ("factor_price", "factor_brand", "factor_reviews", "factor_features", "factor_service")
PROSPECT_ONLY = ("ordered_and_returned", "never_ordered")
BUYER_ONLY = tuple(k for k in SHARE_CLAIMS if k not in PROSPECT_ONLY and k not in SURVEY_SHARE) + (
    "median_order_value",
)
# The buying roles a segment can be named after, strongest claim first (and mixed in "two groups").
ROLE_CLAIMS = (
    "occasion_buyer",
    "social_reach",
    "big_basket",
    "high_touch",
    "late_payer",
    "frequent",
    "discount_driven",
)
# Each role claim's buying role (the persona's name and positioning are told by role).
ROLE_OF_CLAIM = {
    "occasion_buyer": "occasion",
    "discount_driven": "bargain",
    "big_basket": "big_basket",
    "high_touch": "high_touch",
    "late_payer": "late_payer",
    "social_reach": "influencer",
    "frequent": "frequent",
}
# Mode claims: column -> needs survey respondents
MODE_CLAIMS = {
    "gender": False,
    "age_band": False,
    "income_band": False,
    "region": False,
    "city": False,
    "profession": False,
    "web_savviness": False,
    "main_motivation": True,
    "main_barrier": True,
    "discovery_channel": True,
    "brand_perception": True,
}
# Statistics: key -> (column, aggregate)
STATISTICS = {
    "median_order_value": ("avg_order_value", "median"),
    "mean_clv_12m": ("clv_12m", "mean"),
    "mean_cost_to_serve_12m": ("expected_cost_to_serve_12m", "mean"),
}
AGE_BANDS = [(18, "under 18"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (65, "55-64")]
CLAIMS_SCHEMA = polars_schema(SEGMENT_CLAIMS)


def empty_claims() -> pl.DataFrame:
    return pl.DataFrame(schema=CLAIMS_SCHEMA)


def age_band(age: pl.Expr) -> pl.Expr:
    band = pl.when(age.is_null()).then(None)
    for upper, name in AGE_BANDS:
        band = band.when(age < upper).then(pl.lit(name))
    return band.otherwise(pl.lit("65+"))


def _col(df: pl.DataFrame, name: str) -> pl.Expr:
    """A column as numbers (booleans as 0/1); null everywhere when the profile lacks it."""
    return pl.col(name).cast(pl.Float64) if name in df.columns else pl.lit(None, dtype=pl.Float64)


def claim_test(df: pl.DataFrame, key: str, base_medians: dict[str, float | None]) -> pl.Expr:
    """The per-customer test of a share claim: True/False, null where the customer's data says nothing."""
    column, op, threshold = SHARE_CLAIMS[key]
    x = _col(df, column)
    if op == "known":
        return x.is_not_null() if column in df.columns else pl.lit(None, pl.Boolean)
    if op == "unknown":
        return x.is_null() if column in df.columns else pl.lit(None, pl.Boolean)
    if threshold == "base_median_x2":
        median = base_medians.get(column)
        if not median:
            return pl.lit(None, pl.Boolean)
        threshold = 2 * median
    if key == "no_social":
        x = x.fill_null(0.0)  # the social source is present (checked by the caller): no account seen = none
    return {">=": x >= threshold, "<=": x <= threshold, "==": x == threshold, "<": x < threshold}[op]


def _customer_table(df: pl.DataFrame) -> pl.DataFrame:
    """Per customer: segment_id, each share claim's test, each mode column, each statistic's column."""
    base_medians = {"avg_order_value": df.select(_col(df, "avg_order_value").median()).item()}
    has = {
        "social": "social_followers" in df.columns and df["social_followers"].null_count() < df.height,
        "channels": sum(
            c in df.columns and (df[c].fill_null(0) > 0).any()
            for c in ("share_store", "share_online", "share_phone")
        )
        > 1,
    }
    tests = {}
    for key in SHARE_CLAIMS:
        if key in CHANNEL_CLAIMS and not has["channels"]:
            continue  # one order channel in the whole base: where they buy tells nobody apart
        if key in ("social_reach", "no_social") and not has["social"]:
            continue
        tests[key] = claim_test(df, key, base_medians)
    respondent = pl.any_horizontal(
        [pl.col(c).is_not_null() for c in ("main_motivation", "main_barrier", "discovery_channel", "brand_perception")
         if c in df.columns] or [pl.lit(False)]
    )  # fmt: skip
    modes = {
        c: (age_band(_col(df, "age")) if c == "age_band" else pl.col(c).cast(pl.String))
        for c in MODE_CLAIMS
        if c == "age_band" and "age" in df.columns or c in df.columns
    }
    table = df.select(
        pl.col("segment_id").cast(pl.Int64),
        respondent.alias("_respondent"),
        *[e.alias(f"t:{k}") for k, e in tests.items()],
        *[e.alias(f"m:{c}") for c, e in modes.items()],
        *[_col(df, column).alias(f"s:{k}") for k, (column, _) in STATISTICS.items()],
    )
    return table


@dataclass(frozen=True)
class ClaimRow:
    segment_id: int
    claim: str
    kind: str
    value: float | None
    base_value: float | None
    support_share: float
    known_customers: int


def _finite(x: object) -> float | None:
    return float(x) if isinstance(x, int | float) and math.isfinite(x) else None


def holding_claims(profile: pl.DataFrame, config: ClaimConfig | None = None) -> list[ClaimRow]:
    """Every claim that holds, per segment (without text): the evidence of the stories."""
    config = config or ClaimConfig()
    table = _customer_table(profile)
    rows: list[ClaimRow] = []
    tests = [c.removeprefix("t:") for c in table.columns if c.startswith("t:")]
    modes = [c.removeprefix("m:") for c in table.columns if c.startswith("m:")]
    stats = [c.removeprefix("s:") for c in table.columns if c.startswith("s:")]
    base = {k: _finite(profile.select(_base_value(k, profile)).item()) for k in tests}
    means = {
        r["segment_id"]: r
        for r in profile.group_by("segment_id")
        .agg(*[_base_value(k, profile).alias(k) for k in tests])
        .iter_rows(named=True)
    }
    base_stats = {
        k: _finite(table.select(getattr(pl.col(f"s:{k}"), STATISTICS[k][1])()).item()) for k in stats
    }
    for segment_id, part in table.group_by("segment_id", maintain_order=False):
        segment_id = segment_id[0]
        prospect = segment_id == 0
        respondents = int(part["_respondent"].sum())
        rows.append(
            ClaimRow(segment_id, "size", "size", float(part.height), float(table.height), 1.0, part.height)
        )
        role_support: dict[str, float] = {}
        for key in tests:
            if (prospect and key in BUYER_ONLY) or (not prospect and key in PROSPECT_ONLY):
                continue
            known = part[f"t:{key}"].drop_nulls()
            minimum = config.min_respondents if key in SURVEY_SHARE else config.min_known
            if known.len() < minimum:
                continue
            support = float(known.mean())
            if key in ROLE_CLAIMS:
                role_support[key] = support
            if support >= config.support:
                value = _finite(means[segment_id][key])
                rows.append(ClaimRow(segment_id, key, "share", value, base[key], support, known.len()))
        for column in modes:
            survey = MODE_CLAIMS[column]
            known = part[f"m:{column}"].drop_nulls()
            if survey and respondents < config.min_respondents or known.len() < config.min_known:
                continue
            counts = known.value_counts(sort=True)
            counts = counts.sort(["count", f"m:{column}"], descending=[True, False])
            top, n = counts.row(0)
            share = n / known.len()
            needed = config.gender_support if column == "gender" else config.support
            if column == "gender" and top not in ("female", "male"):
                continue
            if share >= needed:
                base_known = table[f"m:{column}"].drop_nulls()
                base_share = float((base_known == top).mean()) if base_known.len() else None
                rows.append(
                    ClaimRow(segment_id, f"{column}={top}", "mode", share, base_share, share, known.len())
                )
        for key in stats:
            if prospect and key in BUYER_ONLY:
                continue
            known = part[f"s:{key}"].drop_nulls()
            reference = base_stats.get(key)
            if known.len() < config.min_known or not reference:
                continue
            value = _finite(getattr(known, STATISTICS[key][1])())
            if value is None or abs(value / reference - 1) < config.difference:
                continue
            side = (known > reference) if value > reference else (known < reference)
            rows.append(
                ClaimRow(segment_id, key, "statistic", value, reference, float(side.mean()), known.len())
            )
        if not prospect and not any(role_support.get(k, 0) >= config.support for k in ROLE_CLAIMS):
            mixture = _mixture(part, role_support, config)
            if mixture:
                rows.append(ClaimRow(segment_id, *mixture))
    return sorted(rows, key=lambda r: (r.segment_id, PLAN_INDEX.get(_plan_key(r.claim), 99), r.claim))


def _base_value(key: str, df: pl.DataFrame) -> pl.Expr:
    """A share claim's `value`: the mean of the column it tests."""
    column = SHARE_CLAIMS[key][0]
    if SHARE_CLAIMS[key][1] in ("known", "unknown"):
        return _col(df, column).is_not_null().cast(pl.Float64).mean()
    return _col(df, column).mean()


def _mixture(part: pl.DataFrame, support: dict[str, float], config: ClaimConfig) -> tuple | None:
    """(claim, kind, share a, share b, union, known) for the best two-group split, if one exists."""
    best = None
    candidates = [k for k in ROLE_CLAIMS if support.get(k, 0) >= config.group_share]
    for a, b in combinations(candidates, 2):
        both = part.select(
            (pl.col(f"t:{a}") & pl.col(f"t:{b}")).fill_null(False).mean().alias("overlap"),
            (pl.col(f"t:{a}") | pl.col(f"t:{b}")).fill_null(False).mean().alias("union"),
        ).row(0)
        overlap, union = both
        if overlap <= config.max_overlap and union >= config.support and (best is None or union > best[4]):
            first, second = sorted((a, b), key=lambda k: -support[k])
            best = (
                f"mixture:{first}+{second}",
                "mixture",
                support[first],
                support[second],
                union,
                part.height,
            )
    return best


def _plan_key(claim: str) -> str:
    return claim.split("=")[0].split(":")[0]


# The sentence plan: the order in which a story tells what holds (the seeds' order).
PLAN = [
    "size", "gender", "age_band", "income_band", "region", "city", "profession", "web_savviness",
    "never_ordered", "ordered_and_returned", "mixture",
    "buys_in_store", "buys_online", "buys_by_phone", "repeat_buyer", "one_order", "lapsed", "frequent",
    "occasion_buyer", "big_basket", "median_order_value", "discount_driven", "returns_often", "late_payer",
    "social_reach", "no_social",
    "main_motivation", "main_barrier", "discovery_channel",
    "factor_price", "factor_brand", "factor_reviews", "factor_features", "factor_service", "brand_perception",
    "no_service_need", "high_touch", "mean_cost_to_serve_12m", "costs_more_than_brings", "mean_clv_12m",
]  # fmt: skip
PLAN_INDEX = {k: i for i, k in enumerate(PLAN)}
