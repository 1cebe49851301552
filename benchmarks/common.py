"""Shared benchmark plumbing: the 1M-customer data set, child processes for clean peak-RSS figures."""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(os.environ.get("SEGMENTATION_BENCH_DIR", ROOT / ".bench"))
CUSTOMERS = int(os.environ.get("SEGMENTATION_BENCH_CUSTOMERS", "1000000"))
DAYS = 730
SEED = 42


def bench_data_dir(customers: int = CUSTOMERS) -> Path:
    """The benchmark landing zone, generated once and reused (it takes ~25 s at 1M customers)."""
    data_dir = BENCH_DIR / f"data_{customers}"
    if not (data_dir / "raw" / "orders").is_dir():
        from segmentation_pipeline.synth import generate_landing_zone

        print(f"generating {customers:,} customers x {DAYS} days into {data_dir} ...", flush=True)
        summary = generate_landing_zone(data_dir, customers=customers, days=DAYS, seed=SEED, overwrite=True)
        print(summary.describe(), flush=True)
    return data_dir


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(module: str, *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> dict:
    """Run `python -m module args` and return the JSON it prints last (fresh process: own peak RSS).

    `cwd`: the checkout whose code runs, with its own .venv (a baseline for comparison).
    `env`: variables set for the child on top of this environment."""
    python = sys.executable if cwd == ROOT else str(cwd / ".venv" / "bin" / "python")
    out = subprocess.run(
        [python, "-m", module, *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **env} if env else None,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def median(values: list[float]) -> float:
    return statistics.median(values)


class Timer:
    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start


def print_table(title: str, rows: list[tuple], headers: tuple[str, ...]) -> None:
    print(f"\n{title}")
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    print("  ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True)))
    for row in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)))
