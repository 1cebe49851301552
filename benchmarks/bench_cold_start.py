"""Cold start at 100k customers: the whole job from an empty warehouse vs a pandas notebook.

The yardstick is benchmarks/pandas_notebook/notebook.py (pandas + lifetimes + scikit-learn: RFM,
BG/NBD, k-means on three columns) on the same landing files. Both are timed the same way, as whole
processes from start to exit (interpreter start and imports included), alternately, so a change in
the machine's load hits both; the ratio is taken pair by pair and its median printed. Peak memory
is each process's own maximum RSS (os.wait4). Issue 15's target: the job >= 5x faster.

The job's run is `benchmarks.bench_pipeline --child`: the real Dagster job in-process from an empty
warehouse (a fresh directory whose raw/ links to the generated landing zone), which also reports
each step's wall time, printed as its share of the run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time

from benchmarks.bench_pipeline import END
from benchmarks.bench_pipeline import _prepare as prepare_run_dir
from benchmarks.common import BENCH_DIR, ROOT, bench_data_dir, median, print_table

CUSTOMERS = int(os.environ.get("SEGMENTATION_BENCH_COLD_CUSTOMERS", "100000"))
RUNS = int(os.environ.get("SEGMENTATION_BENCH_RUNS", "3"))
AS_OF = str(END - dt.timedelta(days=1))  # the day before the last landed one, as bench_pipeline's full run
LOG = BENCH_DIR / "cold_start.log"
NOTEBOOK = ROOT / "benchmarks" / "pandas_notebook" / "notebook.py"


def timed(command: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB, stdout) of one whole process."""
    env = {**os.environ, "SEGMENTATION_SETTLE_SECONDS": "0"}
    with LOG.open("a") as log:  # Dagster's event log goes to stderr: kept, not printed
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True)
        out = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed: see {LOG}")
    return wall, usage.ru_maxrss / 1024, out


def main() -> None:
    data_dir = bench_data_dir(CUSTOMERS)
    run_dir = BENCH_DIR / "cold_start"
    LOG.unlink(missing_ok=True)
    job, notebook = [], []
    for _ in range(RUNS):
        prepare_run_dir(run_dir, data_dir / "raw", None)
        wall, peak, out = timed(
            [sys.executable, "-m", "benchmarks.bench_pipeline", "--child", str(run_dir), AS_OF]
        )
        result = json.loads(out.strip().splitlines()[-1])
        assert result["success"], "the job failed"
        job.append({"wall": wall, "peak": peak, "stages": result["stages"], "run": result["wall"]})
        wall, peak, out = timed(
            [sys.executable, str(NOTEBOOK), "--data-dir", str(data_dir), "--as-of", AS_OF]
        )
        notebook.append({"wall": wall, "peak": peak, "counts": json.loads(out.strip().splitlines()[-1])})
    ratios = [n["wall"] / j["wall"] for j, n in zip(job, notebook, strict=True)]
    counts = notebook[0]["counts"]
    print(
        f"\n{CUSTOMERS:,} customers, {counts['lines']:,} completed order lines up to {AS_OF} "
        f"({counts['files']} daily order files), {RUNS} runs each, alternating"
    )
    print_table(
        "Whole process, start to exit (median; min-max)",
        [
            (
                "pipeline: whole job, empty warehouse",
                f"{median([j['wall'] for j in job]):.1f}",
                f"{min(j['wall'] for j in job):.1f}-{max(j['wall'] for j in job):.1f}",
                f"{max(j['peak'] for j in job):,.0f}",
            ),
            (
                "pandas notebook (RFM, BG/NBD, k-means)",
                f"{median([n['wall'] for n in notebook]):.1f}",
                f"{min(n['wall'] for n in notebook):.1f}-{max(n['wall'] for n in notebook):.1f}",
                f"{max(n['peak'] for n in notebook):,.0f}",
            ),
        ],  # fmt: skip
        ("command", "wall s", "range s", "peak RSS MB"),
    )
    print(
        f"notebook / job: {median(ratios):.2f}x (median of the {RUNS} pairs: "
        f"{', '.join(f'{r:.2f}' for r in ratios)}; target >= 5x)"
    )
    stages = job[0]["stages"]
    steps = sorted(stages, key=lambda s: stages[s]["start"])
    whole = median([j["wall"] for j in job])
    rows = [(step, f"{median([j['stages'][step]['wall'] for j in job]):.2f}") for step in steps]
    rows.append(("(interpreter start, imports, Dagster set-up and tear-down)",
                 f"{median([j['wall'] - sum(s['wall'] for s in j['stages'].values()) for j in job]):.2f}"))  # fmt: skip
    print_table(
        "Each step's share of the job (median wall s; steps run one after another)",
        [(step, seconds, f"{float(seconds) / whole:.1%}") for step, seconds in rows],
        ("step", "wall s", "share"),
    )


if __name__ == "__main__":
    main()
