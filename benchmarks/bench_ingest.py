"""Landing, validating and loading every source at 1M customers / ~10M order lines into an empty warehouse.

Target (issue: foundation): <= 30 s wall and <= 4 GB peak RSS on 2 cores. Each repetition runs in a
fresh process against a fresh warehouse, so the peak RSS is that of one full load.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
from pathlib import Path

from benchmarks.common import Timer, bench_data_dir, median, peak_rss_mb, print_table, run_child

RUNS = int(os.environ.get("SEGMENTATION_BENCH_RUNS", "3"))


def one_load(data_dir: Path) -> dict:
    import duckdb

    from segmentation_pipeline.contracts import SOURCES
    from segmentation_pipeline.settings import Settings
    from segmentation_pipeline.staging.landing import newest_landing_date
    from segmentation_pipeline.staging.load import load_source
    from segmentation_pipeline.warehouse.tables import ensure_schemas

    as_of = newest_landing_date(data_dir / "raw") or dt.date.today()
    timings, rows = {}, {}
    with tempfile.TemporaryDirectory(dir=data_dir.parent) as tmp:
        conn = duckdb.connect(str(Path(tmp) / "warehouse.duckdb"), config=Settings().duckdb_config())
        ensure_schemas(conn)
        with Timer() as total:
            for name, contract in SOURCES.items():
                with Timer() as t:
                    load = load_source(conn, data_dir / "raw", contract, as_of)
                timings[name], rows[name] = t.seconds, load.rows_loaded
        conn.close()
    return {"total": total.seconds, "sources": timings, "rows": rows, "peak_rss_mb": peak_rss_mb()}


def main() -> None:
    data_dir = bench_data_dir()
    results = [run_child("benchmarks.bench_ingest", "--child", str(data_dir)) for _ in range(RUNS)]
    sources = list(results[0]["sources"])
    rows = [
        (name, f"{results[0]['rows'][name]:,}", f"{median([r['sources'][name] for r in results]):.2f}")
        for name in sources
    ]
    rows.append(
        ("TOTAL", f"{sum(results[0]['rows'].values()):,}", f"{median([r['total'] for r in results]):.2f}")
    )
    print_table(
        f"Ingestion into an empty warehouse (median of {RUNS} runs)",
        rows,
        ("source", "rows loaded", "wall s"),
    )
    print(f"peak RSS: {max(r['peak_rss_mb'] for r in results):,.0f} MB   (target: <= 30 s, <= 4096 MB)")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        print(json.dumps(one_load(Path(sys.argv[2]))))
    else:
        main()
