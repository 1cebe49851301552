"""Benchmark of the CLV stage at a million customers, and of lifetimes' BetaGeoFitter beside it.

Run: `.venv/bin/python benchmarks/bench_clv.py [--customers 1000000] [--runs 3]`.

Builds a synthetic `order_days` frame (vectorised NumPy): customers arrive uniformly over two
years, buy as a Poisson process with gamma-distributed rates, drop out after an exponential
lifetime with gamma-distributed rates (the Pareto/NBD story), and spend gamma-distributed amounts
around a customer-specific mean with a customer-specific margin rate (some orders lose money).
It then times `compute_clv` (summaries + BG/NBD and Pareto/NBD calibration fits + refit +
Gamma-Gamma + predictions), median of `--runs` runs, with the process peak RSS, and times
lifetimes' BetaGeoFitter on the same calibration summary (lifetimes is imported only here).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from segmentation_pipeline.models import btyd  # noqa: E402
from segmentation_pipeline.models.clv import CLVConfig, compute_clv, summarize_purchases  # noqa: E402

START = date(2024, 1, 1)
HISTORY_DAYS = 730


def synthetic_order_days(n_customers: int, seed: int = 0) -> pl.DataFrame:
    """About 10 orders per customer over 730 days; one row per order."""
    rng = np.random.default_rng(seed)
    first = rng.integers(0, HISTORY_DAYS, n_customers)
    rate = rng.gamma(shape=1.5, scale=0.033 / 1.5, size=n_customers)  # purchases per day, mean 0.033
    lifetime = rng.exponential(1.0 / rng.gamma(shape=1.0, scale=1 / 600, size=n_customers))
    active = np.minimum(lifetime, HISTORY_DAYS - first)
    repeats = rng.poisson(rate * active)
    # Given their count, Poisson purchase times are uniform over the active window.
    owner = np.repeat(np.arange(n_customers), repeats)
    day = first[owner] + np.floor(rng.random(len(owner)) * active[owner]).astype(np.int64)
    owner = np.concatenate([np.arange(n_customers), owner])
    day = np.concatenate([first, day])

    mean_spend = rng.gamma(shape=4.0, scale=15.0, size=n_customers)
    margin_rate = rng.beta(6.0, 14.0, size=n_customers)
    revenue = rng.gamma(shape=6.0, scale=mean_spend[owner] / 6.0)
    margin = revenue * (margin_rate[owner] + rng.normal(0.0, 0.08, len(owner)))
    ids = pl.Series(np.arange(n_customers)).cast(pl.String).str.zfill(7)
    return pl.DataFrame(
        {
            "customer_id": ("C" + ids).gather(owner),
            "order_date": pl.Series(day.astype(np.int32) + (START - date(1970, 1, 1)).days).cast(pl.Date),
            "revenue": revenue,
            "margin": margin,
        }
    )


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
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--lifetimes-rows", type=int, default=None, help="fit BetaGeoFitter on a subsample")
    args = parser.parse_args()

    t0 = time.perf_counter()
    orders = synthetic_order_days(args.customers)
    as_of = START + timedelta(days=HISTORY_DAYS - 1)
    build_s = time.perf_counter() - t0
    rss_data, peak_data = current_rss_mb(), peak_rss_mb()

    clv_times, result = timed(lambda: compute_clv(orders, as_of, CLVConfig()), args.runs)
    peak_clv = peak_rss_mb()

    # Fit-only comparison on the same calibration summary (compression included in ours).
    calibration_end = as_of - timedelta(days=CLVConfig().holdout_days)
    summary_times, summary = timed(lambda: summarize_purchases(orders, calibration_end), args.runs)
    xs = [summary[c].to_numpy().astype(np.float64) for c in ("x", "t_x", "T")]
    bg_times, bg = timed(lambda: btyd.fit_bgnbd(*xs), args.runs)
    pnbd_times, _ = timed(lambda: btyd.fit_pareto_nbd(*xs), args.runs)
    try:
        lt_s, lt_rows, lt_params = time_lifetimes(summary, args.lifetimes_rows)
    except Exception as exc:  # e.g. memory at full size: time a 100k subsample and extrapolate
        print(
            f"BetaGeoFitter failed on {summary.height:,} customers ({type(exc).__name__}: {exc}); using 100k"
        )
        lt_s, lt_rows, lt_params = time_lifetimes(summary, 100_000)
    lt_full_s = lt_s * summary.height / lt_rows  # lifetimes' likelihood is linear in customers
    med = statistics.median

    rows = [
        ("synthetic data", f"{args.customers:,} customers, {orders.height:,} orders "
         f"({orders.height / args.customers:.1f}/customer), built in {build_s:.1f} s"),
        (f"compute_clv wall, median of {args.runs}", f"{med(clv_times):.2f} s  (runs: "
         + ", ".join(f"{t:.2f}" for t in clv_times) + ")"),
        ("  of which summarize_purchases alone", f"{med(summary_times):.2f} s (one split, median)"),
        ("peak RSS", f"{peak_clv:,.0f} MB (data resident {rss_data:,.0f} MB; peak while building it "
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
    ]
    width = max(len(k) for k, _ in rows)
    print("\n".join(f"{k:<{width}}  {v}" for k, v in rows))


if __name__ == "__main__":
    main()
