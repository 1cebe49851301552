"""Benchmark of the feature stage: synthetic data in memory, or a real warehouse end to end.

Synthetic (default): builds a contract-typed data set in memory (vectorised NumPy -> Polars:
customers, products, orders, surveys, social, service; 1,000,000 customers / 10,000,000 order
lines), loads it into an in-memory DuckDB staging schema, then times what the assets run on it
(features.build.build_feature_tables, full build: read, orders, counted_orders, write_orders,
customer_features, write_features), score_rfm and classify_customers: median of 3 runs per stage,
and the process's peak RSS (which includes the input frames and the in-memory warehouse).

Warehouse (--warehouse PATH --as-of DATE): times exactly what the `customer_feature_tables` and
`customer_scores` assets run (features.build.build_feature_tables, then
defs.models.build_score_tables, on a connection configured as the warehouse resource is): read
staging, aggregate the order lines, counted orders, customer features, write both tables (a full
build: every customer; bench_pipeline measures the incremental daily build); read the features,
score RFM, classify, write both tables. The warehouse is copied to a scratch directory first (the original is only read,
and may be open read-only elsewhere), and each run is a fresh process, so the peak RSS of a run
is its own. Prints per stage the median, min and
max wall time over the runs, the median CPU time (all threads: CPU > wall means the cores were
used in parallel; wall > CPU means waiting, e.g. for cores taken by other jobs), and the peak RSS
at the end of the stage (median over runs), with the load average before and after.

Target (1M customers / 10.5M order lines, 2 cores): <= 10 s wall and <= 4 GB peak RSS.

    .venv/bin/python benchmarks/bench_features.py [--customers N] [--lines N] [--runs N]
    .venv/bin/python benchmarks/bench_features.py --warehouse PATH --as-of YYYY-MM-DD [--runs N]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from segmentation_pipeline.contracts import SOURCES, enums
from segmentation_pipeline.features.build import CUSTOMER_FEATURES, build_feature_tables
from segmentation_pipeline.models.classes.customer_classes import classify_customers
from segmentation_pipeline.models.rfm.scores import score_rfm
from segmentation_pipeline.settings import Settings
from segmentation_pipeline.staging.tables import ensure_source_tables, staging_table
from segmentation_pipeline.warehouse.tables import ensure_schemas

AS_OF = date(2025, 12, 31)
N_PRODUCTS = 5_000


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pl.Series:
    return pl.Series(numbers).cast(pl.String).str.zfill(width).str.replace(r"^", prefix)


def _pick(values: list[str | None], codes: np.ndarray) -> pl.Series:
    return pl.Series(values, dtype=pl.String).gather(codes)


def _timestamps(rng: np.random.Generator, n: int, days_back: int, days_ahead: int = 0) -> pl.Series:
    """Uniform timestamps from `days_back` days before AS_OF to `days_ahead` days after it."""
    end = datetime.combine(AS_OF, datetime.min.time()) + timedelta(days=days_ahead + 1)
    span_us = (days_back + days_ahead + 1) * 86_400_000_000
    offsets = rng.integers(0, span_us, n)
    return pl.Series(np.datetime64(end, "us") - offsets.astype("timedelta64[us]")).cast(pl.Datetime("us"))


def _typed(frame: pl.DataFrame, source: str) -> pl.DataFrame:
    return frame.select([pl.col(c).cast(t) for c, t in SOURCES[source].columns.items()])


def synthesize(n_customers: int, n_lines: int, seed: int = 42) -> dict[str, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    nulls = pl.lit(None)

    # Customers: 98% of the id space is in the master; 1% signed up after AS_OF.
    in_master = np.flatnonzero(rng.random(n_customers) < 0.98)
    m = len(in_master)
    customers = pl.DataFrame(
        {
            "customer_id": _ids("C", in_master, 7),
            "birth_year": rng.integers(1940, 2008, m),
            "gender": _pick(enums.GENDERS, rng.integers(0, 4, m)),
            "city": _pick([f"city_{i}" for i in range(200)], rng.integers(0, 200, m)),
            "region": _pick([f"region_{i}" for i in range(13)], rng.integers(0, 13, m)),
            "country": _pick(["FR", "BE", "CH", "DE"], rng.integers(0, 4, m)),
            "income_band": _pick(enums.INCOME_BANDS, rng.integers(0, 5, m)),
            "profession": _pick([f"job_{i}" for i in range(30)], rng.integers(0, 30, m)),
            "web_savviness": _pick(enums.WEB_SAVVINESS, rng.integers(0, 3, m)),
            "acquisition_channel": _pick(enums.ACQUISITION_CHANNELS, rng.integers(0, 7, m)),
            "signup_date": _timestamps(rng, m, 5 * 365, 4).dt.date(),
            "updated_at": _timestamps(rng, m, 30),
        }
    ).with_columns(email=nulls, full_name=nulls)

    products = pl.DataFrame(
        {
            "product_id": _ids("P", np.arange(N_PRODUCTS), 5),
            "category": _pick([f"category_{i}" for i in range(40)], rng.integers(0, 40, N_PRODUCTS)),
            "brand": _pick([f"brand_{i}" for i in range(300)], rng.integers(0, 300, N_PRODUCTS)),
            "list_price": np.round(rng.lognormal(3.5, 0.8, N_PRODUCTS), 2),
            "updated_at": _timestamps(rng, N_PRODUCTS, 30),
        }
    ).with_columns(unit_cost=(pl.col("list_price") * 0.6).round(2), name=nulls)

    # Orders: 1-5 lines each; 90% of customers buy, skewed so most buy once or twice; a few
    # orders come from customer ids missing from the master; ~1% are dated after AS_OF.
    lines_per_order = rng.integers(1, 6, n_lines // 2)
    n_orders = int(np.searchsorted(np.cumsum(lines_per_order), n_lines)) + 1
    lines_per_order = lines_per_order[:n_orders]
    lines_per_order[-1] -= lines_per_order.sum() - n_lines
    buyers = int(n_customers * 0.9)
    order_customer = (buyers * rng.random(n_orders) ** 2.5).astype(np.int64)
    order_customer = rng.permutation(n_customers)[order_customer]
    order_of_line = np.repeat(np.arange(n_orders), lines_per_order)
    starts = np.repeat(np.cumsum(lines_per_order) - lines_per_order, lines_per_order)
    product = rng.integers(0, N_PRODUCTS + 25, n_lines)  # a few unknown products
    price = np.concatenate([products["list_price"].to_numpy(), np.full(25, 20.0)])[product]
    quantity = rng.integers(1, 4, n_lines)
    discounted = rng.random(n_lines) < 0.3
    orders = pl.DataFrame(
        {
            "order_id": _ids("O", order_of_line, 8),
            "line_number": np.arange(n_lines) - starts + 1,
            "customer_id": _ids("C", order_customer[order_of_line], 7),
            "ordered_at": _timestamps(rng, n_orders, 3 * 365, 30).gather(order_of_line),
            "channel": _pick(enums.ORDER_CHANNELS, rng.choice(3, n_orders, p=[0.6, 0.3, 0.1])[order_of_line]),
            "product_id": _ids("P", product, 5),
            "quantity": quantity,
            "unit_price": price,
            "discount": np.where(
                discounted, np.round(quantity * price * rng.random(n_lines) * 0.2, 2), np.nan
            ),
            "status": _pick(enums.ORDER_STATUSES, rng.choice(3, n_lines, p=[0.9, 0.07, 0.03])),
            "occasion": _pick(
                [None, *enums.OCCASIONS],
                rng.choice(6, n_orders, p=[0.25, 0.6, 0.05, 0.04, 0.03, 0.03])[order_of_line],
            ),
            "payment_days_late": np.where(rng.random(n_orders) < 0.05, rng.integers(1, 60, n_orders), 0)[
                order_of_line
            ],
        }
    ).with_columns(pl.col("discount").fill_nan(None))

    n_responses = n_customers * 3 // 10
    surveys = pl.DataFrame(
        {
            "response_id": _ids("R", np.arange(n_responses), 7),
            "customer_id": _ids("C", rng.integers(0, n_customers, n_responses), 7),
            "submitted_at": _timestamps(rng, n_responses, 3 * 365, 10),
            "discovery_channel": _pick(enums.DISCOVERY_CHANNELS, rng.integers(0, 7, n_responses)),
            "main_motivation": _pick(enums.MOTIVATIONS, rng.integers(0, 8, n_responses)),
            "main_barrier": _pick(enums.BARRIERS, rng.integers(0, 8, n_responses)),
            **{c: rng.integers(1, 6, n_responses) for c in enums.IMPORTANCE_COLUMNS},
            "brand_perception": _pick(enums.BRAND_PERCEPTIONS, rng.integers(0, 6, n_responses)),
            "satisfaction": rng.integers(1, 11, n_responses),
            "nps": rng.integers(0, 11, n_responses),
        }
    ).with_columns(
        pl.when(pl.int_range(pl.len()) % 5 == 0).then(None).otherwise("customer_id").alias("customer_id"),
        comment=nulls,
    )

    # Social: 40% of customers on 1-3 distinct platforms, two observations per platform.
    social_customers = rng.choice(n_customers, n_customers * 4 // 10, replace=False)
    n_platforms = rng.integers(1, 4, len(social_customers))
    pair_customer = np.repeat(social_customers, n_platforms)
    first_platform = np.repeat(rng.integers(0, 7, len(social_customers)), n_platforms)
    within = np.arange(len(pair_customer)) - np.repeat(np.cumsum(n_platforms) - n_platforms, n_platforms)
    pair_platform = (first_platform + within) % 7
    obs_customer, obs_platform = np.repeat(pair_customer, 2), np.repeat(pair_platform, 2)
    n_obs = len(obs_customer)
    social = pl.DataFrame(
        {
            "customer_id": _ids("C", obs_customer, 7),
            "platform": _pick(enums.SOCIAL_PLATFORMS, obs_platform),
            "followers": rng.lognormal(5.5, 2.0, n_obs).astype(np.int64),
            "following": rng.integers(0, 2000, n_obs),
            "brands_followed": rng.integers(0, 50, n_obs),
            "brand_mentions_90d": rng.poisson(0.5, n_obs),
            "engagement_rate": rng.random(n_obs) * 0.1,
            # Two observations per (customer, platform), 60 days apart (distinct keys).
            "observed_at": _timestamps(rng, n_obs // 2, 300, 10).gather(np.arange(n_obs) // 2)
            - pl.Series(np.tile([0, 60], n_obs // 2)).cast(pl.Duration("us")) * 86_400_000_000,
        }
    ).with_columns(handle=nulls)

    n_tickets = n_customers * 8 // 10
    service = pl.DataFrame(
        {
            "ticket_id": _ids("T", np.arange(n_tickets), 7),
            "customer_id": _ids("C", rng.integers(0, n_customers, n_tickets), 7),
            "opened_at": _timestamps(rng, n_tickets, 2 * 365, 10),
            "channel": _pick(enums.SERVICE_CHANNELS, rng.integers(0, 5, n_tickets)),
            "effort_score": rng.integers(1, 11, n_tickets),
            "resolution_minutes": rng.exponential(60, n_tickets),
            "resolved": rng.random(n_tickets) < 0.9,
        }
    )
    frames = {
        "customers": customers,
        "products": products,
        "orders": orders,
        "surveys": surveys,
        "social": social,
        "service": service,
    }
    return {name: _typed(frame, name).rechunk() for name, frame in frames.items()}


def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # kB on Linux


def _staged(data: dict[str, pl.DataFrame]):
    """An in-memory warehouse whose staging tables hold `data` (lineage columns filled in)."""
    import duckdb

    conn = duckdb.connect()
    ensure_schemas(conn)
    for name, frame in data.items():
        ensure_source_tables(conn, SOURCES[name])
        rows = frame.with_columns(
            _source_file=pl.lit(f"{name}_{AS_OF}.csv"),
            _row_number=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
            _landing_date=pl.lit(AS_OF),
            _loaded_at=pl.lit(datetime(AS_OF.year, AS_OF.month, AS_OF.day, 12)),
        )
        conn.register("_rows", rows)
        conn.execute(f"INSERT INTO {staging_table(name)} BY NAME SELECT * FROM _rows")
        conn.unregister("_rows")
    return conn


def _synthetic(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    data = synthesize(args.customers, args.lines)
    print(
        f"synthetic data: {data['customers'].height:,} customers in master, {data['orders'].height:,} order lines, "
        f"{data['surveys'].height:,} survey responses, {data['social'].height:,} social observations, "
        f"{data['service'].height:,} tickets; {sum(f.estimated_size() for f in data.values()) / 1e9:.2f} GB of frames "
        f"(built in {time.perf_counter() - started:.1f} s, peak RSS so far {_peak_rss_gb():.2f} GB)"
    )

    # Wall time is the target; CPU time (all threads) shows when another process shares the cores.
    wall: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    peak: dict[str, float] = {}

    @contextlib.contextmanager
    def stage(name: str):
        w0, c0 = time.perf_counter(), time.process_time()
        yield
        wall.setdefault(name, []).append(time.perf_counter() - w0)
        cpu.setdefault(name, []).append(time.process_time() - c0)
        peak.setdefault(name, _peak_rss_gb())  # high-water mark once the stage first ran

    def timed(name: str, fn):
        with stage(name):
            return fn()

    conn = _staged(data)
    for _ in range(args.runs):
        features = None  # each run starts without the previous run's results in memory
        built = build_feature_tables(
            conn, AS_OF, Settings().cost_per_effort_point, stage=stage, full_refresh=True
        )
        features = conn.sql(f"SELECT * FROM {CUSTOMER_FEATURES}").pl()
        timed("score_rfm", lambda: score_rfm(features))  # noqa: B023
        timed("classify_customers", lambda: classify_customers(features))  # noqa: B023

    wall["total"] = [sum(run) for run in zip(*wall.values(), strict=True)]
    cpu["total"] = [sum(run) for run in zip(*cpu.values(), strict=True)]
    print(f"\n{'stage':<26}{'median wall s':>15}{'min':>7}{'max':>7}{'median CPU s':>15}{'peak RSS GB':>13}")
    for stage, values in wall.items():
        print(
            f"{stage:<26}{statistics.median(values):>15.2f}{min(values):>7.2f}{max(values):>7.2f}"
            f"{statistics.median(cpu[stage]):>15.2f}{peak.get(stage, _peak_rss_gb()):>13.2f}"
        )
    print(
        f"\ncounted orders: {built.counted_orders_recomputed:,}; customers: {features.height:,}; runs: {args.runs}"
    )
    print(f"peak RSS: {_peak_rss_gb():.2f} GB (includes the in-memory input frames)")


def _warehouse_run(path: str, as_of: date) -> dict:
    """One run of the asset's work on the (scratch) warehouse at `path`, in this process."""
    import duckdb

    from segmentation_pipeline.defs.models import build_score_tables
    from segmentation_pipeline.features.build import build_feature_tables
    from segmentation_pipeline.features.value_basis import read_value_basis

    stages: dict[str, dict[str, float]] = {}

    @contextlib.contextmanager
    def stage(name: str):
        w0, c0 = time.perf_counter(), time.process_time()
        yield
        stages[name] = {
            "wall": time.perf_counter() - w0,
            "cpu": time.process_time() - c0,
            "peak_gb": _peak_rss_gb(),
        }

    load = os.getloadavg()[0]
    w0, c0 = time.perf_counter(), time.process_time()
    # Configured as the asset's warehouse resource is (definitions.py).
    with duckdb.connect(path, config=Settings.from_env().duckdb_config()) as conn:
        built = build_feature_tables(
            conn,
            as_of,
            cost_per_effort_point=2.0,
            stage=stage,
            full_refresh=True,
            duckdb_memory_limit=Settings.from_env().features_duckdb_memory_limit,
        )
        orders, customers = built.counted_orders_recomputed, built.customers_recomputed
        with stage("rfm_and_classes"):
            build_score_tables(conn, read_value_basis(conn, Settings.from_env().rfm_monetary))
    stages["total"] = {
        "wall": time.perf_counter() - w0,
        "cpu": time.process_time() - c0,
        "peak_gb": _peak_rss_gb(),
    }
    return {
        "stages": stages,
        "load_before": load,
        "load_after": os.getloadavg()[0],
        "orders": orders,
        "customers": customers,
    }


def _warehouse(args: argparse.Namespace) -> None:
    source = Path(args.warehouse)
    as_of = date.fromisoformat(args.as_of)
    with tempfile.TemporaryDirectory(prefix="bench_features_", dir=args.scratch) as scratch:
        copy = Path(scratch) / "warehouse.duckdb"
        started = time.perf_counter()
        shutil.copyfile(source, copy)
        if source.with_name(source.name + ".wal").exists():
            shutil.copyfile(source.with_name(source.name + ".wal"), copy.with_name(copy.name + ".wal"))
        size_gb, seconds = copy.stat().st_size / 1e9, time.perf_counter() - started
        print(f"scratch copy of {source} ({size_gb:.2f} GB) in {seconds:.1f} s")
        runs = []
        for i in range(args.runs):
            # A fresh process per run: its peak RSS is the run's own, and no cache carries over.
            child = subprocess.run(
                [sys.executable, __file__, "--_run", str(copy), "--as-of", args.as_of],
                capture_output=True,
                text=True,
            )
            if child.returncode != 0:
                sys.exit(f"run {i + 1} failed:\n{child.stderr}")
            run = json.loads(child.stdout.strip().splitlines()[-1])
            runs.append(run)
            total = run["stages"]["total"]
            print(
                f"run {i + 1}: {total['wall']:.2f} s wall, {total['cpu']:.2f} s CPU, "
                f"peak {total['peak_gb']:.2f} GB "
                f"(load average {run['load_before']:.2f} -> {run['load_after']:.2f})"
            )
    print(f"\n{'stage':<20}{'median wall s':>15}{'min':>7}{'max':>7}{'median CPU s':>15}{'peak RSS GB':>13}")
    for name in runs[0]["stages"]:
        wall = [r["stages"][name]["wall"] for r in runs]
        cpu = [r["stages"][name]["cpu"] for r in runs]
        peak = [r["stages"][name]["peak_gb"] for r in runs]
        print(
            f"{name:<20}{statistics.median(wall):>15.2f}{min(wall):>7.2f}{max(wall):>7.2f}"
            f"{statistics.median(cpu):>15.2f}{statistics.median(peak):>13.2f}"
        )
    loads = [r["load_before"] for r in runs] + [r["load_after"] for r in runs]
    print(
        f"\ncounted orders: {runs[0]['orders']:,}; customers: {runs[0]['customers']:,}; runs: {len(runs)}; "
        f"as of {as_of}; load average (1 min) {min(loads):.2f}-{max(loads):.2f} on {os.cpu_count()} CPUs"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warehouse", help="a warehouse.duckdb to benchmark the asset on (copied first)")
    parser.add_argument("--as-of", help="analysis date of --warehouse runs, YYYY-MM-DD")
    parser.add_argument("--scratch", help="directory for the scratch copy (default: the system temp dir)")
    parser.add_argument("--_run", help=argparse.SUPPRESS)  # internal: one run in a child process
    args = parser.parse_args(argv)
    if args._run:
        print(json.dumps(_warehouse_run(args._run, date.fromisoformat(args.as_of))))
    elif args.warehouse:
        if not args.as_of:
            parser.error("--warehouse needs --as-of")
        _warehouse(args)
    else:
        _synthetic(args)


if __name__ == "__main__":
    sys.exit(main())
