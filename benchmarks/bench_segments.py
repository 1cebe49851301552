"""Benchmark of the segment models on a synthetic 1,000,000-customer profile.

Times, median over 3 runs: clustering with the choice of k (2..20), explanations, economics,
personas and the segments table, history rows and migrations; prints peak RSS, the chosen k,
the ARI against the planted archetypes and the day-to-day stability.
Target (issue 14): <= 10 s wall for the daily chain, <= 3 GB peak RSS. CPU seconds are printed too:
the machine is shared, and wall time then says more about the load than about the code.

    .venv/bin/python benchmarks/bench_segments.py [--rows 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.metrics import adjusted_rand_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from segmentation_pipeline.marts.economics import segment_economics  # noqa: E402
from segmentation_pipeline.marts.history import segment_history  # noqa: E402
from segmentation_pipeline.marts.personas import personas  # noqa: E402
from segmentation_pipeline.models.segmentation import clustering  # noqa: E402

# name, share, and the planted behaviour (means; noise is added around them)
ARCHETYPES = [
    # Joe: loyal, researches online, buys in store for special occasions, big baskets, no social life.
    dict(name="joe", share=0.15, age=37, web="average", store=0.85, online=0.12, occasion=0.7, discount=0.05,
         aov=420, freq=6, recency=60, followers=0, effort=2, late=0.02, motivation="service", barrier="none",
         discovery="referral", perception="reliable", gender="male"),
    # Sarah: 19, very savvy, small frequent online purchases, talks about them with her network.
    dict(name="sarah", share=0.15, age=19, web="high", store=0.03, online=0.95, occasion=0.05, discount=0.2,
         aov=35, freq=12, recency=20, followers=3000, effort=1, late=0.02, motivation="features",
         barrier="delivery", discovery="social", perception="innovative", gender="female"),
    dict(name="bargain", share=0.15, age=45, web="average", store=0.45, online=0.5, occasion=0.1, discount=0.75,
         aov=50, freq=5, recency=45, followers=0, effort=2, late=0.05, motivation="price", barrier="price",
         discovery="campaign", perception="average", gender="female"),
    dict(name="high_touch", share=0.10, age=62, web="low", store=0.5, online=0.15, occasion=0.15, discount=0.1,
         aov=120, freq=4, recency=50, followers=0, effort=45, late=0.05, motivation="service", barrier="trust",
         discovery="store", perception="outdated", gender="male"),
    dict(name="late_payer", share=0.08, age=35, web="average", store=0.4, online=0.55, occasion=0.1,
         discount=0.15, aov=150, freq=5, recency=40, followers=0, effort=3, late=0.65, motivation="convenience",
         barrier="payment", discovery="search", perception="average", gender="male"),
    dict(name="lapsed", share=0.15, age=48, web="average", store=0.5, online=0.45, occasion=0.1, discount=0.15,
         aov=70, freq=2, recency=420, followers=0, effort=1, late=0.05, motivation="quality", barrier="awareness",
         discovery="search", perception="unknown", gender="female"),
    dict(name="commercial", share=0.05, age=44, web="average", store=0.1, online=0.3, occasion=0.0, discount=0.1,
         aov=3200, freq=20, recency=15, followers=0, effort=6, late=0.15, motivation="features",
         barrier="missing_feature", discovery="campaign", perception="leader", gender="male"),
    dict(name="influencer", share=0.07, age=28, web="high", store=0.1, online=0.88, occasion=0.15, discount=0.1,
         aov=90, freq=8, recency=25, followers=60000, effort=2, late=0.02, motivation="brand", barrier="none",
         discovery="social", perception="leader", gender="female"),
]  # fmt: skip
PROSPECT_SHARE = 0.08
CATEGORIES = ["audio", "telephonie", "informatique", "maison", "beaute", "mode", "sport", "cadeaux"]


def synthetic_profile(
    n: int, seed: int = 7, as_of: date = date(2026, 6, 30)
) -> tuple[pl.DataFrame, np.ndarray]:
    """A vectorised customer profile with planted archetypes (-1 = prospect) and its labels."""
    rng = np.random.default_rng(seed)
    shares = np.array([a["share"] for a in ARCHETYPES])
    shares = shares / shares.sum() * (1 - PROSPECT_SHARE)
    labels = rng.choice(len(ARCHETYPES) + 1, size=n, p=[PROSPECT_SHARE, *shares]) - 1
    buyer = labels >= 0
    lab = np.where(buyer, labels, 0)

    def planted(key: str) -> np.ndarray:
        return np.array([a[key] for a in ARCHETYPES], dtype=object)[lab]

    def num(key: str) -> np.ndarray:
        return np.array([a[key] for a in ARCHETYPES], dtype=float)[lab]

    def share(key: str, conc: float = 20.0) -> np.ndarray:
        m = np.clip(num(key), 0.01, 0.99)
        return rng.beta(m * conc, (1 - m) * conc)

    def lognormal(key: str, sigma: float = 0.35) -> np.ndarray:
        return num(key) * rng.lognormal(0.0, sigma, n)

    def pick(key: str, keep: float, domain: list[str]) -> np.ndarray:
        noise = np.array(domain, dtype=object)[rng.integers(0, len(domain), n)]
        return np.where(rng.random(n) < keep, planted(key), noise)

    freq = np.maximum(1, np.round(lognormal("freq", 0.4))).astype(np.int64)
    aov = lognormal("aov", 0.35)
    online = share("online")
    store = np.minimum(share("store"), 1 - online)
    recency = np.round(lognormal("recency", 0.45)).astype(np.int64)
    tenure = recency + np.round(freq * rng.uniform(25, 60, n)).astype(np.int64)
    followers = np.where(num("followers") > 0, np.round(lognormal("followers", 0.6)), 0)
    has_social = (followers > 0) | (rng.random(n) < 0.25)
    surveyed = rng.random(n) < 0.35
    effort = np.round(lognormal("effort", 0.4))
    late = share("late")
    monetary = freq * aov
    survey_cols = {
        "discovery_channel": pick(
            "discovery", 0.7, ["campaign", "referral", "search", "social", "store", "press"]
        ),
        "main_motivation": pick("motivation", 0.7, ["price", "quality", "brand", "service", "convenience"]),
        "main_barrier": pick(
            "barrier", 0.7, ["price", "missing_feature", "trust", "awareness", "delivery", "none"]
        ),
        "brand_perception": pick(
            "perception", 0.7, ["reliable", "innovative", "leader", "average", "outdated"]
        ),
    }
    imp = {
        f"importance_{k}": np.clip(np.round(rng.normal(3, 1, n)), 1, 5)
        for k in ["price", "brand", "reviews", "features", "service"]
    }
    imp["importance_price"] = np.where(lab == 2, 5, imp["importance_price"])
    imp["importance_service"] = np.where(np.isin(lab, [0, 3]), 5, imp["importance_service"])
    imp["importance_reviews"] = np.where(np.isin(lab, [1, 7]), 5, imp["importance_reviews"])

    def buyers_only(values: np.ndarray) -> pl.Series:
        return pl.Series(values).to_frame("v").select(pl.when(pl.Series(buyer)).then(pl.col("v"))).to_series()

    def masked(values: np.ndarray, mask: np.ndarray) -> pl.Series:
        return pl.Series(values).to_frame("v").select(pl.when(pl.Series(mask)).then(pl.col("v"))).to_series()

    web = pick("web", 0.8, ["low", "average", "high"])
    df = pl.DataFrame(
        {
            "customer_id": [f"C{i:07d}" for i in range(n)],
            "as_of_date": pl.Series([as_of] * n),
            "recency_days": buyers_only(recency),
            "frequency": np.where(buyer, freq, 0),
            "purchase_days": np.where(buyer, freq, 0),
            "monetary": np.where(buyer, monetary, 0.0),
            "margin": np.where(buyer, monetary * rng.uniform(0.2, 0.4, n), 0.0),
            "avg_order_value": buyers_only(aov),
            "tenure_days": np.where(buyer, tenure, rng.integers(0, 400, n)),
            "mean_days_between_orders": masked(
                (tenure - recency) / np.maximum(freq - 1, 1), buyer & (freq > 1)
            ),
            "share_online": buyers_only(online),
            "share_store": buyers_only(store),
            "share_phone": buyers_only(1 - online - store),
            "preferred_channel": buyers_only(
                np.where(online >= store, np.where(online >= 1 - online - store, "online", "phone"), "store")
            ),
            "top_category": buyers_only(
                np.array(CATEGORIES, dtype=object)[rng.integers(0, len(CATEGORIES), n)]
            ),
            "top_brand": buyers_only(np.where(rng.random(n) < 0.5, "Maison Aurèle", "Kelto")),
            "brand_concentration": buyers_only(rng.beta(4, 4, n)),
            "discount_share": buyers_only(share("discount")),
            "occasion_share": buyers_only(share("occasion")),
            "return_rate": buyers_only(rng.beta(1, 20, n)),
            "cancel_rate": buyers_only(rng.beta(1, 30, n)),
            "late_payment_share": buyers_only(late),
            "mean_days_late": masked(np.round(late * 40 * rng.uniform(0.5, 1.5, n)), buyer & (late > 0.2)),
            "service_contacts": np.ceil(effort / 6).astype(np.int64),
            "mean_effort_score": masked(
                np.clip(effort / np.maximum(np.ceil(effort / 6), 1), 1, 10), effort > 0
            ),
            "total_effort": effort,
            "cost_to_serve": effort * 4.0,
            "unresolved_tickets": np.where(lab == 3, rng.integers(0, 3, n), 0),
            "social_followers": masked(followers, has_social),
            "social_platforms": masked(np.where(followers > 0, rng.integers(1, 4, n), 1), has_social),
            "engagement_rate": masked(np.where(followers > 0, rng.beta(2, 30, n), 0.0), has_social),
            "brand_mentions_90d": masked(
                np.where(lab == 7, rng.poisson(40, n), rng.poisson(1, n)), has_social
            ),
            "influence_tier": masked(
                np.select(
                    [followers >= 100_000, followers >= 20_000, followers >= 2_000, followers >= 200],
                    ["macro", "mid", "micro", "nano"],
                    "none",
                ),
                has_social,
            ),
            **{k: masked(v, surveyed) for k, v in survey_cols.items()},
            **{k: masked(v, surveyed) for k, v in imp.items()},
            "satisfaction": masked(
                np.clip(np.round(rng.normal(np.where(lab == 3, 4, 8), 1.5)), 1, 10), surveyed
            ),
            "nps": masked(np.clip(np.round(rng.normal(np.where(lab == 3, 4, 8), 2)), 0, 10), surveyed),
            "age": np.clip(np.round(num("age") + rng.normal(0, 5, n)), 16, 95),
            "gender": pick("gender", 0.75, ["female", "male"]),
            "income_band": np.array(["lt_20k", "20k_40k", "40k_70k", "70k_100k", "gt_100k"], dtype=object)[
                rng.integers(0, 5, n)
            ],
            "web_savviness": web,
            "acquisition_channel": pick(
                "discovery", 0.6, ["campaign", "referral", "search", "social", "store"]
            ),
            "r_score": buyers_only(np.clip(5 - recency // 60, 1, 5)),
            "f_score": buyers_only(np.clip(freq // 3 + 1, 1, 5)),
            "m_score": buyers_only(np.clip(np.log10(monetary + 1).astype(int), 1, 5)),
            "rfm_segment": np.where(
                ~buyer,
                "Prospect",
                np.where(recency > 300, "Lost", np.where(freq >= 8, "Champions", "Potential Loyalist")),
            ),
            "lifecycle_stage": np.where(~buyer, "prospect", np.where(recency > 300, "lapsed", "active")),
            "risk_class": np.where(late > 0.3, "high_risk", "low_risk"),
            "volume_class": np.where(buyer & (monetary > 1000), "high_volume", "low_volume"),
            "loyalty_class": np.where(freq >= 6, "high_loyalty", "low_loyalty"),
            "p_alive": buyers_only(np.exp(-recency / 300)),
            "expected_orders_12m": buyers_only(freq / np.maximum(tenure, 30) * 365 * np.exp(-recency / 300)),
            "clv_12m": buyers_only(monetary / np.maximum(tenure, 30) * 365 * 0.3 * np.exp(-recency / 300)),
        }
    )
    df = df.with_columns(
        pl.when(pl.col("clv_12m") > 500).then(pl.lit("high")).when(pl.col("clv_12m") > 100).then(pl.lit("medium"))
        .otherwise(pl.lit("low")).alias("clv_tier")
    )  # fmt: skip
    return df, labels


def next_day(profile: pl.DataFrame, seed: int = 8, buy_rate: float = 0.003) -> pl.DataFrame:
    """The same base one day later: everyone ages a day, a few customers order again."""
    rng = np.random.default_rng(seed)
    bought = pl.Series(rng.random(profile.height) < buy_rate)
    buyer = pl.col("frequency") > 0
    return profile.with_columns(
        pl.col("as_of_date") + timedelta(days=1),
        pl.when(bought & buyer).then(0).otherwise(pl.col("recency_days") + 1).alias("recency_days"),
        pl.when(bought & buyer)
        .then(pl.col("frequency") + 1)
        .otherwise(pl.col("frequency"))
        .alias("frequency"),
        pl.when(bought & buyer)
        .then(pl.col("monetary") + pl.col("avg_order_value"))
        .otherwise(pl.col("monetary"))
        .alias("monetary"),
        pl.col("tenure_days") + 1,
    )


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # Linux: kB


class Timer:
    """Collects the wall time of each step, run after run."""

    def __init__(self) -> None:
        self.steps: dict[str, list[float]] = {}
        self.cpu: dict[str, list[float]] = {}  # CPU seconds of the process (all threads): load-independent
        self._step = ""
        self._start = self._cpu = 0.0

    def __call__(self, step: str) -> Timer:
        self._step = step
        return self

    def __enter__(self) -> None:
        self._start, self._cpu = time.perf_counter(), time.process_time()

    def __exit__(self, *exc: object) -> None:
        self.steps.setdefault(self._step, []).append(time.perf_counter() - self._start)
        self.cpu.setdefault(self._step, []).append(time.process_time() - self._cpu)


def run_chain(profile: pl.DataFrame, tomorrow: pl.DataFrame, as_of: date, timer: Timer) -> dict:
    """One daily run of the segment logic, then the next day (reused model, and a forced refit)."""
    day = as_of + timedelta(days=1)
    with timer("clustering + choice of k (fit)"):
        result = clustering.segment_customers(profile, None, None, as_of)
    with timer("attach segments"):
        with_segment = clustering.attach_segments(profile, result.assignment)
    with timer("explanations"):
        explanations = clustering.explain_segments(with_segment)
    with timer("economics"):
        economics = segment_economics.segment_economics(with_segment)
    with timer("personas"):
        persona_table = personas.build_personas_and_claims(with_segment, economics)[0]
    with timer("segments table"):
        personas.build_segments_table(with_segment, economics, persona_table, explanations)
    with timer("history rows"):
        hist1 = segment_history.history_rows(
            with_segment.select("customer_id", "segment_id", "rfm_segment"), as_of
        )
    with timer("next day: assignment (model reused)"):
        reused = clustering.segment_customers(tomorrow, result.model, result.assignment, day)
    hist2 = segment_history.history_rows(
        reused.assignment.join(tomorrow.select("customer_id", "rfm_segment"), on="customer_id"), day
    )
    with timer("next day: migrations"):
        segment_history.migrations(
            hist1, hist2, tomorrow.select("customer_id", pl.col("monetary").alias("revenue"))
        )
    with timer("next day: forced refit (aligned)"):
        refit = clustering.segment_customers(
            tomorrow, result.model, result.assignment, day, clustering.SegmentationConfig(force_refit=True)
        )
    return {"result": result, "reused": reused, "refit": refit}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    as_of = date(2026, 6, 30)
    t0 = time.perf_counter()
    profile, planted = synthetic_profile(args.rows, as_of=as_of)
    tomorrow = next_day(profile)
    print(
        f"synthetic profile: {profile.height:,} rows x {profile.width} columns in {time.perf_counter() - t0:.1f} s"
    )

    timer = Timer()
    for run in range(args.runs):
        out = run_chain(profile, tomorrow, as_of, timer)
        print(f"run {run + 1}: {sum(v[-1] for v in timer.steps.values()):.1f} s")

    totals = [sum(v[i] for v in timer.steps.values()) for i in range(args.runs)]
    daily = [sum(v[i] for k, v in timer.steps.items() if "forced refit" not in k) for i in range(args.runs)]
    daily_cpu = [sum(v[i] for k, v in timer.cpu.items() if "forced refit" not in k) for i in range(args.runs)]
    print(f"\n{'step':<40}{'median s':>10}{'min-max':>14}{'cpu s':>8}")
    for step, values in timer.steps.items():
        spread = f"{min(values):.2f}-{max(values):.2f}"
        print(
            f"{step:<40}{statistics.median(values):>10.2f}{spread:>14}{statistics.median(timer.cpu[step]):>8.2f}"
        )
    print(
        f"{'TOTAL without the forced refit':<40}{statistics.median(daily):>10.2f}{'':>14}{statistics.median(daily_cpu):>8.2f}"
    )
    print(f"{'TOTAL with it':<40}{statistics.median(totals):>10.2f}")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"peak RSS: {_rss_gb():.2f} GB")

    result = out["result"]
    buyers = planted >= 0
    seg = result.assignment.sort("customer_id").get_column("segment_id").to_numpy()
    scores = ", ".join(f"{k}:{v:.3f}" for k, v in result.k_scores.items())
    print(
        f'\nchosen k={result.model.k}; score by k (silhouette / null silhouette; - null for model="tree"): {scores}'
    )
    print(f"ARI vs planted archetypes (buyers): {adjusted_rand_score(planted[buyers], seg[buyers]):.3f}")
    for label in ("reused", "refit"):
        other = out[label]
        same = result.assignment.join(other.assignment, on="customer_id").select(
            (pl.col("segment_id") == pl.col("segment_id_right")).mean()
        )
        print(
            f"next day ({label}): {same.item():.2%} keep their segment; ARI vs day 1 {other.ari_vs_previous:.4f}; "
            f"ids {sorted(other.model.segment_ids)}"
        )


if __name__ == "__main__":
    main()
