"""The whole job at 1M customers on the DuckLake (PostgreSQL catalog) with 1 and 2 step processes,
next to the single DuckDB file: wall time, peak memory per process, and where the time goes.

Each run is a full run into an empty warehouse (a new catalog database, an empty data path) on the
benchmark landing zone, in a fresh process that starts the job as `make run` does. A sampler reads
the RSS of that process and of every step process under it every 50 ms; Dagster's event log says
which process ran which step, and when each step process was launched, started and finished.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

from benchmarks.common import BENCH_DIR, bench_data_dir, print_table, run_child

END = dt.date(2026, 6, 30)
AS_OF = (END - dt.timedelta(days=1)).isoformat()
WORKER_COUNTS = [int(n) for n in os.environ.get("SEGMENTATION_BENCH_WORKERS", "1,2").split(",")]


def _tree_rss_mb(root: int) -> dict[int, float]:
    """RSS in MB of `root` and every process below it (from /proc; no psutil here)."""
    parents: dict[int, int] = {}
    rss: dict[int, float] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            parents[int(entry.name)] = int(fields[1])
            rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return {pid: rss.get(pid, 0.0) for pid in tree}


def one_run(data_dir: Path) -> dict:
    """The job once, started as `make run` starts it, in this process (environment set by the parent)."""

    from segmentation_pipeline.defs.resources import run_tags
    from segmentation_pipeline.defs.runner import dagster_instance, execute_daily_job
    from segmentation_pipeline.settings import Settings

    settings = Settings.from_env()
    peaks: dict[int, float] = defaultdict(float)
    total_peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            tree = _tree_rss_mb(os.getpid())
            for pid, mb in tree.items():
                peaks[pid] = max(peaks[pid], mb)
            total_peak[0] = max(total_peak[0], sum(tree.values()))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    load_before = os.getloadavg()[0]
    started = time.time()
    with dagster_instance(persistent=True) as instance:
        result = execute_daily_job(settings, instance, run_tags(settings))
        records = instance.all_logs(result.run_id)
    finished = time.time()
    done.set()
    sampler.join()
    steps: dict[str, dict] = defaultdict(dict)
    for record in records:
        event = record.dagster_event
        if event is None or not event.step_key:
            continue
        kind = event.event_type_value
        if kind in ("STEP_WORKER_STARTING", "STEP_START", "STEP_SUCCESS", "STEP_FAILURE"):
            steps[event.step_key][kind] = record.timestamp
        if kind == "STEP_START":
            steps[event.step_key]["pid"] = event.pid
    for step in steps.values():
        step["peak_rss_mb"] = peaks.get(step.get("pid", -1), 0.0)
    return {
        "success": result.success,
        "wall": finished - started,
        "orchestrator_peak_rss_mb": peaks[os.getpid()],
        "total_peak_rss_mb": total_peak[0],
        "steps": steps,
        "started": started,
        "warehouse": settings.warehouse,
        "workers": settings.workers,
        "partitions": settings.customer_partitions if settings.warehouse == "ducklake" else 1,
        "load": (load_before, os.getloadavg()[0]),  # 1-minute load average at the start and the end
    }


def _summarise(run: dict) -> tuple:
    steps = run["steps"].values()
    compute = sum(
        s.get("STEP_SUCCESS", s.get("STEP_FAILURE", 0)) - s["STEP_START"] for s in steps if "STEP_START" in s
    )
    startup = sum(s["STEP_START"] - s["STEP_WORKER_STARTING"] for s in steps if "STEP_WORKER_STARTING" in s)
    step_peak = max((s["peak_rss_mb"] for s in steps), default=0.0)
    mode = (
        "DuckDB file, in-process"
        if run["warehouse"] == "duckdb"
        else f"DuckLake, {run['workers']} step process(es), {run['partitions']} bucket(s)"
    )
    return (
        mode,
        f"{run['wall']:.1f}",
        f"{compute:.1f}",
        f"{startup:.1f}" if startup else "-",
        f"{max(step_peak, run['orchestrator_peak_rss_mb'] if run['warehouse'] == 'duckdb' else step_peak):,.0f}",
        f"{run['orchestrator_peak_rss_mb']:,.0f}",
        f"{run['total_peak_rss_mb']:,.0f}",
        "{:.1f} -> {:.1f}".format(*run.get("load", (float("nan"),) * 2)),
    )


def _slowest_steps(run: dict, count: int = 8) -> list[tuple]:
    rows = []
    for key, step in run["steps"].items():
        if "STEP_START" not in step:
            continue
        end = step.get("STEP_SUCCESS", step.get("STEP_FAILURE", step["STEP_START"]))
        launch = step["STEP_START"] - step["STEP_WORKER_STARTING"] if "STEP_WORKER_STARTING" in step else 0.0
        rows.append((key, f"{end - step['STEP_START']:.1f}", f"{launch:.1f}", f"{step['peak_rss_mb']:,.0f}"))
    return sorted(rows, key=lambda r: -float(r[1]))[:count]


def main() -> None:
    from tests.services import create_database, postgres_cluster

    raw = bench_data_dir() / "raw"
    work = BENCH_DIR / "ducklake"
    runs = []
    with postgres_cluster() as server:
        for warehouse, workers in [("duckdb", 1)] + [("ducklake", n) for n in WORKER_COUNTS]:
            run_dir = work / f"{warehouse}_{workers}"
            shutil.rmtree(run_dir, ignore_errors=True)
            run_dir.mkdir(parents=True)
            (run_dir / "raw").symlink_to(raw.resolve(), target_is_directory=True)
            env = {
                "SEGMENTATION_DATA_DIR": str(run_dir),
                "SEGMENTATION_AS_OF": AS_OF,
                "SEGMENTATION_SETTLE_SECONDS": "0",
                "SEGMENTATION_WAREHOUSE": warehouse,
                "SEGMENTATION_WORKERS": str(workers),
            }
            if warehouse == "ducklake":
                env["SEGMENTATION_DUCKLAKE_CATALOG"] = create_database(
                    server, f"bench_{workers}_{int(time.time())}"
                )
            print(f"running: {warehouse}, {workers} worker(s) ...", flush=True)
            runs.append(run_child("benchmarks.bench_ducklake", "--child", str(run_dir), env=env))
            assert runs[-1]["success"], f"the {warehouse} run with {workers} worker(s) failed"
            print(
                f"  {' | '.join(_summarise(runs[-1]))}", flush=True
            )  # a long run's figures, before the table
    print_table(
        f"Full run into an empty warehouse, {AS_OF} (one run each; wall includes step-process start-up)",
        [_summarise(r) for r in runs],
        ("mode", "wall s", "sum of step compute s", "sum of step start-up s", "peak RSS of a step process MB",
         "orchestrator peak MB", "all processes at once peak MB", "load average at start -> end"),
    )  # fmt: skip
    for run in runs[1:]:
        print_table(
            f"Slowest steps, DuckLake with {run['workers']} step process(es)",
            _slowest_steps(run),
            ("step", "compute s", "process start-up s", "peak RSS MB"),
        )


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        print(json.dumps(one_run(Path(sys.argv[2]))))
    else:
        main()
