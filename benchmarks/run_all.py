"""`make bench`: every benchmark in turn, each printing its own table of figures."""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = [
    ("Ingestion (landing, validation, loading)", "benchmarks.bench_ingest"),
    ("Features, RFM and classes", "benchmarks.bench_features"),
    ("CLV", "benchmarks.bench_clv"),
    ("Segmentation, personas, history", "benchmarks.bench_segments"),
    ("Whole job: full run, then one more day", "benchmarks.bench_pipeline"),
]


def main() -> int:
    only = set(sys.argv[1:])
    failed = []
    for title, module in BENCHMARKS:
        if only and module.split(".")[-1] not in only:
            continue
        print(f"\n=== {title} ({module}) ===", flush=True)
        if subprocess.run([sys.executable, "-m", module]).returncode != 0:
            failed.append(module)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
