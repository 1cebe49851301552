"""The whole job at 10M customers / ~106M order lines on a DuckLake (PostgreSQL catalog), the mode
built for that size: wall time, peak memory per step process, where the time goes, and the disk used.

One full run into an empty lake, in a fresh process started as `make run` starts it (the same
child as `bench_ducklake`, which samples the RSS of every step process). The per-customer stages
run as `SEGMENTATION_CUSTOMER_PARTITIONS` customer-hash buckets (default here 16: ~625,000
customers a bucket, so a bucket step's memory is that of a 625k-customer build, whatever the
base); `SEGMENTATION_WORKERS` step processes run at once (default 2, this machine's cores).

The landing zone (~11 GB) and the lake (Parquet files, ~15 GB) go under `.bench/` and are removed
at the end unless `--keep`: about 40 GB of free disk are needed while it runs (the generator's
files, the lake, DuckDB's spill files). It takes about an hour on 2 cores; `make bench` runs it
last, and `SEGMENTATION_BENCH_SCALE_OUT=0` skips it.

    .venv/bin/python -m benchmarks.bench_scale_out [--customers 10000000] [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import time
from collections import defaultdict

from benchmarks.bench_ducklake import AS_OF, _summarise
from benchmarks.common import BENCH_DIR, bench_data_dir, print_table, run_child


def _disk_gb(path) -> float:
    out = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0]) / 1e9


def _stage(step_key: str) -> str:
    """The asset a step belongs to: `clv_models.bucket_3` and `clv_models.prepare` are `clv_models`."""
    return step_key.split(".")[0]


def _where_time_goes(run: dict) -> list[tuple]:
    """Per stage: its steps, the sum of their compute, the span from its first start to its last
    end (what it adds to the wall when its steps overlap), and the largest step process's peak."""
    stages: dict[str, dict] = defaultdict(
        lambda: {"steps": 0, "compute": 0.0, "start": None, "end": 0.0, "peak": 0.0}
    )
    for key, step in run["steps"].items():
        if "STEP_START" not in step:
            continue
        end = step.get("STEP_SUCCESS", step.get("STEP_FAILURE", step["STEP_START"]))
        stage = stages[_stage(key)]
        stage["steps"] += 1
        stage["compute"] += end - step["STEP_START"]
        stage["start"] = (
            step["STEP_START"] if stage["start"] is None else min(stage["start"], step["STEP_START"])
        )
        stage["end"] = max(stage["end"], end)
        stage["peak"] = max(stage["peak"], step["peak_rss_mb"])
    total = sum(s["compute"] for s in stages.values()) or 1.0
    rows = [
        (
            name,
            s["steps"],
            f"{s['compute']:.1f}",
            f"{s['compute'] / total:.0%}",
            f"{s['end'] - s['start']:.1f}",
            f"{s['peak']:,.0f}",
        )
        for name, s in stages.items()
    ]
    return sorted(rows, key=lambda r: -float(r[2]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the landing zone and the lake")
    args = parser.parse_args()
    if os.environ.get("SEGMENTATION_BENCH_SCALE_OUT", "1") == "0":
        print("skipped (SEGMENTATION_BENCH_SCALE_OUT=0)")
        return

    from tests.services import create_database, postgres_cluster

    partitions = os.environ.get("SEGMENTATION_CUSTOMER_PARTITIONS", "16")
    workers = os.environ.get("SEGMENTATION_WORKERS", "2")
    generated = time.perf_counter()
    data_dir = bench_data_dir(args.customers)
    generated = time.perf_counter() - generated
    run_dir = BENCH_DIR / f"scale_out_{args.customers}"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    (run_dir / "raw").symlink_to((data_dir / "raw").resolve(), target_is_directory=True)
    try:
        with postgres_cluster() as server:
            env = {
                "SEGMENTATION_DATA_DIR": str(run_dir),
                "SEGMENTATION_AS_OF": AS_OF,
                "SEGMENTATION_SETTLE_SECONDS": "0",
                "SEGMENTATION_WAREHOUSE": "ducklake",
                "SEGMENTATION_WORKERS": workers,
                "SEGMENTATION_CUSTOMER_PARTITIONS": partitions,
                "SEGMENTATION_DUCKLAKE_CATALOG": create_database(server, f"scale_out_{int(time.time())}"),
            }
            print(f"running: ducklake, {workers} step processes, {partitions} buckets ...", flush=True)
            run = run_child("benchmarks.bench_ducklake", "--child", str(run_dir), env=env)
        landing_gb, lake_gb = _disk_gb(data_dir / "raw"), _disk_gb(run_dir / "lake")
    finally:
        if not args.keep:
            shutil.rmtree(run_dir, ignore_errors=True)
            shutil.rmtree(data_dir, ignore_errors=True)
    assert run["success"], "the scale-out run failed"
    print_table(
        f"Full run into an empty DuckLake, {args.customers:,} customers, {AS_OF} (one run)",
        [_summarise(run)],
        ("mode", "wall s", "sum of step compute s", "sum of step start-up s", "peak RSS of a step process MB",
         "orchestrator peak MB", "all processes at once peak MB", "load average at start -> end"),
    )  # fmt: skip
    print_table(
        "Where the time goes, by stage (a stage's buckets run side by side: span <= compute)",
        _where_time_goes(run),
        ("stage", "steps", "compute s", "share of compute", "span s", "peak RSS of one step MB"),
    )
    print(
        f"\ndisk: landing zone {landing_gb:.1f} GB, lake {lake_gb:.1f} GB"
        f"{'' if args.keep else ' (both removed)'}; generating the landing zone took {generated:.0f} s"
    )


if __name__ == "__main__":
    main()
