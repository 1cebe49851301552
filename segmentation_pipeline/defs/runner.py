"""`make run`: one in-process run of the whole asset graph, with a console people read.

The console shows one line per step (progress, name, rows, seconds), every warning, the full
message of a failed check, and a closing summary naming the BI snapshot and the report; Dagster's
own event log (DEBUG) goes to a file under `$SEGMENTATION_DATA_DIR/logs/`. Sample data is
generated only into a brand-new data dir.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from segmentation_pipeline.settings import Settings

log = logging.getLogger(__name__)

# Repository @ code location, as `dagster dev -w workspace.yaml` names them (python_module location).
UI_REPOSITORY_LABEL = "__repository__@segmentation_pipeline.definitions"
REPOSITORY_LABEL_TAG = ".dagster/repository"
SAMPLE_CUSTOMERS = 5_000
SAMPLE_DAYS = 730
SAMPLE_SEED = 7


def landing_zone_is_empty(settings: Settings) -> bool:
    raw = settings.raw_dir
    return not raw.is_dir() or not any(p.is_file() for p in raw.rglob("*") if not p.name.startswith("."))


class LandingZoneError(ValueError):
    """The landing zone cannot be used as it is (said with what to do)."""


def ensure_sample_data(settings: Settings) -> bool:
    """Generate the sample data set into a brand-new data dir (no raw file, no warehouse); True if generated.

    An empty landing zone beside an existing warehouse is an error, never a reason to generate:
    sample files there would be loaded and published as if they were the business's data.
    """
    if not landing_zone_is_empty(settings):
        return False
    existing = [p for p in (settings.warehouse_path, settings.data_dir / "marts.duckdb") if p.exists()]
    if existing:
        raise LandingZoneError(
            f"the landing zone {settings.raw_dir} holds no file, but {existing[0]} exists: nothing to load. "
            "Check SEGMENTATION_DATA_DIR and the delivery of the raw files; sample data is generated only into "
            "a brand-new data dir (or on request: python -m segmentation_pipeline generate --out DIR)."
        )
    from segmentation_pipeline.synth import generate_landing_zone

    print(f"Brand-new data dir {settings.data_dir}: generating the sample data set "
          f"({SAMPLE_CUSTOMERS:,} customers, {SAMPLE_DAYS} days, seed {SAMPLE_SEED})")  # fmt: skip
    generate_landing_zone(settings.data_dir, customers=SAMPLE_CUSTOMERS, days=SAMPLE_DAYS, seed=SAMPLE_SEED)
    return True


@contextlib.contextmanager
def dagster_instance(persistent: bool = False) -> Iterator[dg.DagsterInstance]:
    """The DAGSTER_HOME instance when set (runs then show in `dagster dev`), else a throwaway one.

    `persistent`: the throwaway one keeps its records on disk (a temporary directory, removed after),
    as the multiprocess executor needs: its step processes report through the instance's storage.
    """
    if os.environ.get("DAGSTER_HOME"):
        os.makedirs(os.environ["DAGSTER_HOME"], exist_ok=True)
        with dg.DagsterInstance.get() as instance:
            yield instance
    elif persistent:
        with (
            tempfile.TemporaryDirectory(prefix="dagster-") as home,
            dg.DagsterInstance.local_temp(home) as instance,
        ):
            yield instance
    else:
        with dg.DagsterInstance.ephemeral() as instance:
            yield instance


class StepConsole(logging.Handler):
    """Turns Dagster's event stream into one line per step, the warnings, and failed checks in full."""

    def __init__(self, total_steps: int, stream=None):
        super().__init__(level=logging.DEBUG)
        self.total, self.done = total_steps, 0
        self.stream = stream or sys.stdout
        self.started: dict[str, float] = {}
        self.rows: dict[str, int] = {}
        self.warnings: list[str] = []
        self.failed_checks: list[str] = []
        self.paths: dict[str, str] = {}
        self.skipped = 0

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event, step = meta.get("dagster_event"), meta.get("step_key")
        if event is None:
            message = meta.get("orig_message", record.getMessage())
            if message.startswith("Dependencies for step"):  # a step skipped after a failure upstream
                self.skipped += 1
            elif record.levelno >= logging.WARNING:
                text = (
                    f"{step}: {meta.get('orig_message', record.getMessage())}"
                    if step
                    else record.getMessage()
                )
                self.warnings.append(text)
                self._print(f"    warning: {text}")
            return
        kind = event.event_type_value
        if kind == "STEP_START":
            self.started[step] = time.perf_counter()
        elif kind == "ASSET_MATERIALIZATION":
            metadata = event.event_specific_data.materialization.metadata
            if "dagster/row_count" in metadata:
                self.rows[step] = metadata["dagster/row_count"].value
            for key in ("snapshot", "path"):
                if key in metadata:
                    self.paths[key] = metadata[key].value
        elif kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed:
                message = f"check {evaluation.check_name} on {evaluation.asset_key.to_user_string()} FAILED: {evaluation.description}"
                self.failed_checks.append(message)
                self._print(f"    {message}")
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"):
            self.done += 1
            seconds = time.perf_counter() - self.started.get(step, time.perf_counter())
            rows = f"{self.rows[step]:>10,} rows" if step in self.rows else " " * 15
            state = {"STEP_SUCCESS": "", "STEP_FAILURE": "  FAILED", "STEP_SKIPPED": "  skipped"}[kind]
            self._print(f"[{self.done:>2}/{self.total}] {step:<55} {rows} {seconds:6.1f} s{state}")
            if kind == "STEP_FAILURE":
                self._print(f"    {event.event_specific_data.error.message.strip().splitlines()[0][:2000]}")


def _loggers(console: StepConsole, debug_log: Path) -> dict[str, dg.LoggerDefinition]:
    @dg.logger(description="One line per step on the console (see runner.StepConsole).")
    def console_logger(_init_context) -> logging.Logger:
        logger = logging.getLogger("segmentation_pipeline.console")
        logger.handlers = [console]
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        return logger

    @dg.logger(description="Dagster's full event log, DEBUG included, to a file.")
    def debug_file_logger(_init_context) -> logging.Logger:
        handler = logging.FileHandler(debug_log, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger = logging.getLogger("segmentation_pipeline.debug_file")
        logger.handlers = [handler]
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        return logger

    return {"console": console_logger, "debug_file": debug_file_logger}


def execute_daily_job(
    settings: Settings,
    instance: dg.DagsterInstance,
    tags: dict[str, str],
    run_config: dict | None = None,
    loggers: dict[str, dg.LoggerDefinition] | None = None,
):
    """One run of the daily job: in this process on the DuckDB file, in step processes on the DuckLake.

    In DuckLake mode every step process rebuilds the job from the environment
    (`definitions.daily_job_from_env`), so `settings` must be the environment's; the run's tags
    carry the analysis date to every step. `loggers` (console handlers of this process) serve only
    the in-process run. Returns Dagster's result (`success`, `all_events`).
    """
    from segmentation_pipeline.definitions import JOB_NAME, build_definitions, daily_job_from_env

    if settings.warehouse == "ducklake":
        return dg.execute_job(
            dg.reconstructable(daily_job_from_env),
            instance=instance,
            run_config=run_config or {},
            tags=tags,
            raise_on_error=False,
        )
    job = build_definitions(settings).resolve_job_def(JOB_NAME)
    if loggers:
        job = job.with_logger_defs(loggers)
        run_config = {**(run_config or {}), "loggers": {name: {} for name in loggers}}
    return job.execute_in_process(
        run_config=run_config or {}, instance=instance, raise_on_error=False, tags=tags
    )


def run_pipeline(settings: Settings | None = None, verbose: bool = False) -> bool:
    """Materialise every asset once, in one run. Returns True when the run succeeded."""
    settings = settings or Settings.from_env()
    if ensure_sample_data(settings):
        settings = dataclasses.replace(settings, settle_seconds=0)  # written by us, complete
    # One analysis date for the whole run, resolved once (a file landing mid-run cannot move it).
    as_of = settings.analysis_date()
    settings = dataclasses.replace(settings, as_of=as_of.isoformat())
    from segmentation_pipeline.definitions import JOB_NAME, build_definitions
    from segmentation_pipeline.defs.resources import run_tags

    started = time.perf_counter()
    job = build_definitions(settings).resolve_job_def(JOB_NAME)
    logs = settings.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    debug_log = logs / f"run_{dt.datetime.now():%Y%m%dT%H%M%S}.log"
    # One step per op: a partitioned stage (defs/partitioned.py) is one node of several steps.
    console = StepConsole(total_steps=sum(1 for _ in job.graph.iterate_op_defs()))
    # --verbose keeps Dagster's own console (every DEBUG event)
    loggers = None if verbose else _loggers(console, debug_log)
    run_config = {}
    parallel = settings.warehouse == "ducklake"
    if parallel:
        # Step processes rebuild the job from the environment: give them this run's settling time, and
        # keep their console to warnings (one line per step is printed from the run's records after).
        os.environ["SEGMENTATION_SETTLE_SECONDS"] = f"{settings.settle_seconds:g}"
        if not verbose:
            run_config = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    # The UI lists a job's runs by this label; in-process runs carry none unless given it.
    tags = {**run_tags(settings), REPOSITORY_LABEL_TAG: UI_REPOSITORY_LABEL}
    print(f"Run of {JOB_NAME}: analysis date {as_of}, data dir {settings.data_dir}, {console.total} steps"
          + (f", {settings.workers} step processes at a time (DuckLake)" if parallel else ""))  # fmt: skip
    with dagster_instance(persistent=parallel) as instance:
        result = execute_daily_job(settings, instance, tags, run_config, loggers)
        if parallel:
            for stat in sorted(instance.get_run_step_stats(result.run_id), key=lambda s: s.start_time or 0):
                seconds = (stat.end_time or 0) - (stat.start_time or 0)
                print(f"  {stat.step_key:<60} {stat.status.value.lower():<9} {seconds:6.1f} s")
    elapsed = time.perf_counter() - started
    _summary(result, settings, console, debug_log if not verbose else None, elapsed)
    return result.success


def _summary(
    result, settings: Settings, console: StepConsole, debug_log: Path | None, elapsed: float
) -> None:
    status = "succeeded" if result.success else "FAILED"
    print(f"Run {result.run_id} {status} in {elapsed:.1f} s (analysis date {settings.as_of}).")
    if result.success:
        snapshot = console.paths.get("snapshot", str(settings.data_dir / "marts.duckdb"))
        print(f"  BI snapshot: {snapshot} (open it read-only; Parquet files beside it in marts/)")
        if "path" in console.paths:
            print(f"  report:      {console.paths['path']}")
    else:
        skipped = f"{console.skipped} later step(s) not run; " if console.skipped else ""
        print(f"  {skipped}nothing was published: the last published snapshot stays in place.")
        for message in console.failed_checks:
            print(f"  {message}")
        for event in result.all_events:
            if event.event_type_value == "RESOURCE_INIT_FAILURE":  # e.g. the warehouse is held
                error = event.event_specific_data.error
                while error.cause is not None and "DagsterResourceFunctionError" in error.cls_name:
                    error = error.cause
                print(f"  the run could not start: {error.message.strip()[:2000]}")
            if event.event_type_value == "PIPELINE_FAILURE" and event.event_specific_data.error:
                # raised outside any step: by the executor (the lake is held by another run, so no
                # step started) or by step processes that failed to set up
                error = event.event_specific_data.error
                message = re.sub(r"^[\w.]+: ", "", error.message.strip())  # without the exception's class
                print(f"  the run failed outside its steps: {message[:2000]}")
            if event.event_type_value == "STEP_FAILURE":
                print(
                    f"  step {event.step_key} failed: {event.event_specific_data.error.message.strip()[:2000]}"
                )
    if console.warnings:
        print(f"  {len(console.warnings)} warning(s), listed above.")
    if debug_log:
        print(f"  full Dagster log: {debug_log}")
