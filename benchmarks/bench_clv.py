"""Benchmark of the CLV stage at a million customers, and of lifetimes' BetaGeoFitter beside it.

Run: `.venv/bin/python benchmarks/bench_clv.py [--customers 1000000] [--runs 3]` (synthetic data),
or `.venv/bin/python benchmarks/bench_clv.py --warehouse .bench/pipeline/full/warehouse.duckdb
--as-of 2026-06-29` on the real input of the stage (`features.customer_orders` of a pipeline run;
opened read-only, or copied to a temporary directory first when a running pipeline holds it).

The synthetic `order_days` frame (vectorised NumPy) imitates the shape of the pipeline's data,
because the cost of the stage depends on it: a constant-churn population in which most customers
never drop out makes Pareto/NBD's dropout heterogeneity vanish (s and beta in the thousands,
where SciPy's hyp2f1 is slow), and heavy buyers and day-granularity times make the number of
distinct (x, t) pairs large. Customers belong to segments (occasional, frequent, heavy,
commercial buyers on a 4-6 week cadence, and lapsed customers who stop ordering before the last
~6 months); most exist before the window and buy from its start, the others arrive uniformly;
orders fall on days (about 1% of purchase days have a second order) and spend is heavy-tailed
(lognormal customer means, commercial baskets ~20x larger), with customer-specific margin rates
and some loss-making orders.

It times `compute_clv` (summaries + BG/NBD and Pareto/NBD calibration fits + refit + Gamma-Gamma
+ predictions), median of `--runs` runs, with the process peak RSS, and times lifetimes'
BetaGeoFitter on the same calibration summary (lifetimes is imported only here).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from segmentation_pipeline.models import btyd  # noqa: E402
from segmentation_pipeline.models.clv.predictions import CLVConfig, compute_clv  # noqa: E402
from segmentation_pipeline.models.clv.purchases import aggregate_purchases, purchase_summary  # noqa: E402

START = date(2024, 7, 1)
HISTORY_DAYS = 730
# The CLV asset's own query, on the revenue basis (known for every order whatever the costs).
QUERY = "SELECT customer_id, order_date, revenue, revenue AS margin FROM features.customer_orders"

# Segments of ordering customers, after the pipeline's own generator (segmentation_pipeline.synth):
# share, mean purchases per year (times a Gamma(2, 0.5) activity per customer), share that exists
# before the window. Nobody churns except the lapsed; commercial buyers follow a cadence instead.
SEGMENTS = {
    "occasion": (0.13, 2.5, 0.6),  # half of the orders in the run-up to Christmas
    "frequent": (0.17, 7.5, 0.35),
    "bargain": (0.20, 3.2, 0.55),
    "ordinary": (0.28, 2.9, 0.6),
    "lapsed": (0.17, 4.5, 0.9),  # stop ordering before the last ~6 months
    "commercial": (0.05, 0.0, 0.7),  # every 4-6 weeks on working days
}


def synthetic_order_days(n_customers: int, seed: int = 0) -> pl.DataFrame:
    """One row per order over HISTORY_DAYS days of `n_customers` customers (those who never
    order in the window are not in it); see the module docstring."""
    rng = np.random.default_rng(seed)
    names = list(SEGMENTS)
    shares, per_year, existing_share = (np.array([SEGMENTS[s][i] for s in names]) for i in range(3))
    segment = rng.choice(len(names), n_customers, p=shares / shares.sum())
    lapsed, commercial = segment == names.index("lapsed"), segment == names.index("commercial")
    end = np.where(lapsed, rng.uniform(0.25, 1.0, n_customers) * (HISTORY_DAYS - 190), float(HISTORY_DAYS))
    existing = rng.random(n_customers) < existing_share[segment]
    begin = np.where(existing, 0.0, rng.random(n_customers) * end)

    # Poisson buyers: given their count, purchase times are uniform over the active window.
    rate = np.where(commercial, 0.0, per_year[segment] / 365.0 * rng.gamma(2.0, 0.5, n_customers))
    count = rng.poisson(rate * (end - begin))
    owner = np.repeat(np.arange(n_customers), count)
    day = begin[owner] + rng.random(len(owner)) * (end - begin)[owner]
    # Half of the occasion buyers' orders move to one of the 24 days before Christmas.
    moved = (segment[owner] == names.index("occasion")) & (rng.random(len(owner)) < 0.5)
    christmas = np.array([(date(y, 12, 1) - START).days for y in (2024, 2025)])
    day[moved] = christmas[rng.integers(0, 2, moved.sum())] + rng.integers(0, 24, moved.sum())
    moved &= (day >= begin[owner]) & (day < end[owner])
    # Commercial buyers: every 28, 35 or 42 days from a random phase, +-1.5 days, working days.
    c_idx = np.flatnonzero(commercial)
    period = rng.choice([28.0, 35.0, 42.0], len(c_idx), p=[0.4, 0.35, 0.25])
    phase = rng.uniform(0.0, period)
    c_count = np.maximum(np.floor((end - begin)[c_idx] - phase) // period + 1, 0).astype(np.int64)
    c_owner = np.repeat(np.arange(len(c_idx)), c_count)
    k = np.arange(len(c_owner)) - np.repeat(np.cumsum(c_count) - c_count, c_count)
    c_day = begin[c_idx][c_owner] + phase[c_owner] + k * period[c_owner] + rng.normal(0.0, 1.5, len(c_owner))
    c_day += np.where((np.floor(c_day) + START.weekday()) % 7 >= 5, 2.0, 0.0)
    owner = np.concatenate([owner, c_idx[c_owner]])
    day = np.floor(np.concatenate([day, c_day])).astype(np.int64)
    keep = (day >= 0) & (day < HISTORY_DAYS) & (day >= np.floor(begin[owner]))
    owner, day = owner[keep], day[keep]
    # A second order on about 1% of purchases (same day: one purchase day, two orders).
    twice = rng.random(len(owner)) < 0.01
    owner, day = np.concatenate([owner, owner[twice]]), np.concatenate([day, day[twice]])

    # Spend: heavy-tailed customer means (commercial baskets ~20x), margin rates around 35%.
    mean_spend = 80.0 * rng.lognormal(-0.32, 0.8, n_customers) * np.where(commercial, 20.0, 1.0)
    margin_rate = rng.beta(7.0, 13.0, n_customers)
    revenue = np.round(rng.gamma(2.0, mean_spend[owner] / 2.0) + 1.0, 2)
    margin = np.round(revenue * (margin_rate[owner] + rng.normal(0.0, 0.12, len(owner))), 2)
    ids = pl.Series(np.arange(n_customers)).cast(pl.String).str.zfill(8)
    return pl.DataFrame(
        {
            "customer_id": ("C" + ids).gather(owner),
            "order_date": pl.Series(day.astype(np.int32) + (START - date(1970, 1, 1)).days).cast(pl.Date),
            "revenue": revenue,
            "margin": margin,
        }
    )


def warehouse_order_days(path: Path) -> pl.DataFrame:
    """The stage's input from a pipeline warehouse, read-only; copied first if it is locked."""
    import duckdb

    try:
        with duckdb.connect(str(path), read_only=True) as conn:
            return conn.sql(QUERY).pl()
    except duckdb.IOException as exc:  # a running pipeline holds the write lock
        print(f"{path} is locked ({exc}); reading a copy")
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / path.name
            shutil.copy(path, copy)
            wal = path.with_name(path.name + ".wal")
            if wal.exists():
                shutil.copy(wal, copy.with_name(copy.name + ".wal"))
            with duckdb.connect(str(copy), read_only=True) as conn:
                return conn.sql(QUERY).pl()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def timed(fn, runs: int) -> tuple[list[float], object]:
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


def time_lifetimes(summary: pl.DataFrame, max_rows: int | None) -> tuple[float, int, str]:
    """Fit time of lifetimes' BetaGeoFitter on (a subsample of) the calibration summary."""
    import pandas  # noqa: F401  (lifetimes needs pandas < 3)
    from lifetimes import BetaGeoFitter

    if max_rows is not None and summary.height > max_rows:
        summary = summary.sample(max_rows, seed=1)
    pdf = summary.select(frequency="x", recency="t_x", T="T").to_pandas()
    t0 = time.perf_counter()
    fitter = BetaGeoFitter().fit(pdf["frequency"], pdf["recency"], pdf["T"])
    elapsed = time.perf_counter() - t0
    return elapsed, summary.height, ", ".join(f"{v:.4g}" for v in fitter.params_.values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000, help="synthetic customers")
    parser.add_argument("--seed", type=int, default=0, help="synthetic data seed")
    parser.add_argument("--warehouse", type=Path, help="time the stage on this pipeline warehouse instead")
    parser.add_argument(
        "--as-of", type=date.fromisoformat, help="analysis date (default: the last order date)"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--lifetimes-rows", type=int, default=None, help="fit BetaGeoFitter on a subsample")
    args = parser.parse_args()

    t0 = time.perf_counter()
    if args.warehouse:
        orders = warehouse_order_days(args.warehouse)
        source = f"{args.warehouse} (features.customer_orders)"
    else:
        orders = synthetic_order_days(args.customers, args.seed)
        source = f"synthetic, seed {args.seed}"
    as_of = args.as_of or orders["order_date"].max()
    build_s = time.perf_counter() - t0
    rss_data, peak_data = current_rss_mb(), peak_rss_mb()

    clv_times, result = timed(lambda: compute_clv(orders, as_of, CLVConfig()), args.runs)
    peak_clv = peak_rss_mb()

    # Fit-only comparison on the same calibration summary (compression included in ours).
    calibration_end = as_of - timedelta(days=CLVConfig().holdout_days)
    summary_times, summary = timed(
        lambda: purchase_summary(
            aggregate_purchases(orders, calibration_end, calibration_end), calibration_end, "cal", 7.0
        ),
        args.runs,
    )
    xs = [summary[c].to_numpy().astype(np.float64) for c in ("x", "t_x", "T")]
    compressed = btyd.RfmData.build(*xs)
    bg_times, bg = timed(lambda: btyd.fit_bgnbd(*xs), args.runs)
    pnbd_times, pnbd = timed(lambda: btyd.fit_pareto_nbd(*xs), args.runs)
    try:
        lt_s, lt_rows, lt_params = time_lifetimes(summary, args.lifetimes_rows)
    except Exception as exc:  # e.g. memory at full size: time a 100k subsample and extrapolate
        print(
            f"BetaGeoFitter failed on {summary.height:,} customers ({type(exc).__name__}: {exc}); using 100k"
        )
        lt_s, lt_rows, lt_params = time_lifetimes(summary, 100_000)
    lt_full_s = lt_s * summary.height / lt_rows  # lifetimes' likelihood is linear in customers
    med = statistics.median
    customers = orders["customer_id"].n_unique()

    rows = [
        ("data", f"{source}: {customers:,} customers, {orders.height:,} orders "
         f"({orders.height / customers:.1f}/customer), loaded in {build_s:.1f} s; as of {as_of}"),
        ("calibration summary", f"{len(compressed.x):,} distinct (x, t_x, T) rows, {len(compressed.pair_x):,} "
         f"(x, t) pairs, max x {int(compressed.x.max())}, {len(compressed.t_values)} distinct t"),
        (f"compute_clv wall, median of {args.runs}", f"{med(clv_times):.2f} s  (runs: "
         + ", ".join(f"{t:.2f}" for t in clv_times) + ")"),
        ("  of which the purchase summary alone", f"{med(summary_times):.2f} s (one split, median)"),
        ("peak RSS", f"{peak_clv:,.0f} MB (data resident {rss_data:,.0f} MB; peak while loading it "
         f"{peak_data:,.0f} MB)"),
        ("chosen model / warnings", f"{result.chosen_model} / {'; '.join(result.warnings) or 'none'}"),
    ]  # fmt: skip
    for model, m in result.holdout.items():
        rows.append(
            (f"holdout {model} ({m['n_customers']:,.0f} sampled)",
             f"predicted {m['predicted_total']:,.0f} vs actual {m['actual_total']:,.0f}; "
             f"MAE {m['mae']:.3f}, RMSE {m['rmse']:.3f}")
        )  # fmt: skip
    rows += [
        (f"BG/NBD fit, ours ({summary.height:,} customers)", f"{med(bg_times):.2f} s (median; incl. compression)"),
        ("Pareto/NBD fit, ours (same data)", f"{med(pnbd_times):.2f} s (median; incl. its BG/NBD start)"),
        (f"BetaGeoFitter, lifetimes ({lt_rows:,} customers)", f"{lt_s:.2f} s (one run)"),
    ]  # fmt: skip
    if lt_rows < summary.height:
        rows.append(
            ("BetaGeoFitter extrapolated, linear", f"{lt_full_s:.1f} s at {summary.height:,} customers")
        )
    rows += [
        ("speed-up, BG/NBD fit", f"{lt_full_s / med(bg_times):.0f}x"),
        ("r, alpha, a, b: ours", ", ".join(f"{v:.4g}" for v in bg.params.values())),
        ("r, alpha, a, b: lifetimes", lt_params),
        ("r, alpha, s, beta: ours", ", ".join(f"{v:.4g}" for v in pnbd.params.values())),
    ]
    width = max(len(k) for k, _ in rows)
    print("\n".join(f"{k:<{width}}  {v}" for k, v in rows))


if __name__ == "__main__":
    main()
