"""The whole daily job at 1M customers: a full run into an empty warehouse, then an incremental day.

Target (issue: production-grade operation): full run <= 60 s, incremental daily run <= 20 s, peak
<= 4 GB on 2 cores. Each run is a fresh process running the real Dagster job in-process; a sampler
thread reads the process RSS every 20 ms so each step gets its own peak.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path

from benchmarks.common import BENCH_DIR, ROOT, bench_data_dir, median, print_table, run_child

RUNS = int(os.environ.get("SEGMENTATION_BENCH_RUNS", "3"))
END = dt.date(2026, 6, 30)


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def one_run(data_dir: Path, as_of: str) -> dict:
    """Run the job once in this process; per-step wall time and peak RSS, and the run's totals."""
    import os

    os.environ["SEGMENTATION_AS_OF"] = as_of
    import dagster as dg

    from segmentation_pipeline.definitions import JOB_NAME, build_definitions
    from segmentation_pipeline.settings import Settings

    samples: list[tuple[float, float]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append((time.time(), _rss_mb()))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.time()
    job = build_definitions(dataclasses.replace(Settings.from_env(), data_dir=data_dir)).resolve_job_def(
        JOB_NAME
    )
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance)
        step_stats = instance.get_run_step_stats(result.run_id)
    finished = time.time()
    done.set()
    sampler.join()
    stages = {}
    for stat in step_stats:
        end = stat.end_time or finished
        window = [rss for t, rss in samples if stat.start_time - 0.02 <= t <= end + 0.02]
        stages[stat.step_key] = {
            "wall": end - stat.start_time, "peak_rss_mb": max(window, default=0.0), "start": stat.start_time - started,
        }  # fmt: skip
    return {
        "success": result.success,
        "wall": finished - started,
        "peak_rss_mb": max(rss for _, rss in samples),
        "stages": stages,
    }


def _prepare(run_dir: Path, raw: Path, base: Path | None) -> None:
    shutil.rmtree(run_dir, ignore_errors=True)
    if base is not None:
        shutil.copytree(base, run_dir, symlinks=True)
    else:
        run_dir.mkdir(parents=True)
        (run_dir / "raw").symlink_to(raw.resolve(), target_is_directory=True)


def _report(title: str, results: list[dict]) -> None:
    steps = sorted(results[0]["stages"], key=lambda s: results[0]["stages"][s]["start"])
    rows = [
        (step, f"{median([r['stages'][step]['wall'] for r in results]):.2f}",
         f"{max(r['stages'][step]['peak_rss_mb'] for r in results):,.0f}")
        for step in steps
    ]  # fmt: skip
    rows.append(("TOTAL (run, excl. interpreter start)", f"{median([r['wall'] for r in results]):.2f}",
                 f"{max(r['peak_rss_mb'] for r in results):,.0f}"))  # fmt: skip
    print_table(
        f"{title} (median of {len(results)} runs; steps run one after another)",
        rows,
        ("step", "wall s", "peak RSS MB"),
    )


def _full_then_daily(data_dir: Path, work: Path, checkout: Path) -> tuple[dict, dict]:
    """One full run into an empty warehouse, then one more day on a copy of its warehouse."""
    _prepare(work / "full", data_dir / "raw", None)
    full = run_child(
        "benchmarks.bench_pipeline",
        "--child",
        str(work / "full"),
        str(END - dt.timedelta(days=1)),
        cwd=checkout,
    )
    _prepare(work / "daily", data_dir / "raw", work / "full")
    daily = run_child("benchmarks.bench_pipeline", "--child", str(work / "daily"), str(END), cwd=checkout)
    # As it goes: a run at 1M takes minutes on a busy machine, and the tables come at the end.
    print(f"{checkout}: full {full['wall']:.1f} s, daily {daily['wall']:.1f} s", flush=True)
    return full, daily


def _ratios(label: str, numerators: list[dict], denominators: list[dict], target: str) -> None:
    pairs = [n["wall"] / d["wall"] for n, d in zip(numerators, denominators, strict=True)]
    print(f"{label}: {median(pairs):.2f} (median of {len(pairs)} pairs: {', '.join(f'{r:.2f}' for r in pairs)}; "
          f"target {target})")  # fmt: skip


def main() -> None:
    """Full then daily, RUNS times; with SEGMENTATION_BENCH_BASELINE=<another checkout> (its own
    .venv, e.g. `git worktree add ../base <commit>`), the baseline's runs alternate with these."""
    data_dir = bench_data_dir()
    work = BENCH_DIR / "pipeline"
    baseline = os.environ.get("SEGMENTATION_BENCH_BASELINE")
    full_runs, daily_runs, base_full, base_daily = [], [], [], []
    for _ in range(RUNS):
        full, daily = _full_then_daily(data_dir, work, ROOT)
        full_runs.append(full)
        daily_runs.append(daily)
        if baseline:
            full, daily = _full_then_daily(data_dir, work, Path(baseline))
            base_full.append(full)
            base_daily.append(daily)
    assert all(r["success"] for r in full_runs + daily_runs + base_full + base_daily), (
        "a benchmark run failed"
    )
    _report("Full run into an empty warehouse (target <= 60 s, <= 4096 MB)", full_runs)
    _report("Incremental daily run, one more day of files (target <= 20 s, <= 4096 MB)", daily_runs)
    print()
    _ratios("next day / full run", daily_runs, full_runs, "<= 0.10")
    if baseline:
        _report(f"Baseline {baseline}: full run", base_full)
        _report(f"Baseline {baseline}: daily run", base_daily)
        print()
        _ratios("baseline next day / full run", base_daily, base_full, "(for comparison)")
        _ratios("full run / baseline full run", full_runs, base_full, "<= 0.40")
        _ratios("daily run / baseline daily run", daily_runs, base_daily, "(lower is better)")


if __name__ == "__main__":
    if len(sys.argv) > 3 and sys.argv[1] == "--child":
        print(json.dumps(one_run(Path(sys.argv[2]), sys.argv[3])))
    else:
        main()
