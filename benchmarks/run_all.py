"""`make bench`: every benchmark in turn, each printing its own table of figures."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

from benchmarks.bench_pipeline import END
from benchmarks.common import BENCH_DIR

FULL_RUN_AS_OF = END - dt.timedelta(days=1)

# The features benchmark runs on the warehouse the whole-job benchmark leaves (its full run).
FULL_RUN = [
    "--warehouse",
    str(BENCH_DIR / "pipeline" / "full" / "warehouse.duckdb"),
    "--as-of",
    str(FULL_RUN_AS_OF),
]
BENCHMARKS = [
    ("Cold start at 100k customers: the whole job vs a pandas notebook", "benchmarks.bench_cold_start", []),
    ("Ingestion (landing, validation, loading)", "benchmarks.bench_ingest", []),
    ("CLV", "benchmarks.bench_clv", []),
    ("Segmentation, personas, history", "benchmarks.bench_segments", []),
    ("Segment quality on random worlds vs a plain baseline", "benchmarks.bench_segment_quality", []),
    ("Whole job: full run, then one more day", "benchmarks.bench_pipeline", []),
    ("Features, RFM and classes: a full build on the real 1M data", "benchmarks.bench_features", FULL_RUN),
    (
        "Whole job on DuckLake (1 and 2 step processes) next to the DuckDB file",
        "benchmarks.bench_ducklake",
        [],
    ),
    (
        "10M customers / ~106M order lines on DuckLake, customer buckets (about an hour; SEGMENTATION_BENCH_SCALE_OUT=0 skips it)",
        "benchmarks.bench_scale_out",
        [],
    ),
]


def main() -> int:
    only = set(sys.argv[1:])
    failed = []
    for title, module, args in BENCHMARKS:
        if only and module.split(".")[-1] not in only:
            continue
        print(f"\n=== {title} ({module}) ===", flush=True)
        if subprocess.run([sys.executable, "-m", module, *args]).returncode != 0:
            failed.append(module)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
