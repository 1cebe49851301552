"""`make run`: one in-process run of the whole asset graph, generating sample data on an empty landing zone."""

from __future__ import annotations

import logging
import os
import time

import dagster as dg

from segmentation_pipeline.settings import Settings

log = logging.getLogger(__name__)

SAMPLE_CUSTOMERS = 5_000
SAMPLE_DAYS = 730
SAMPLE_SEED = 7


def landing_zone_is_empty(settings: Settings) -> bool:
    raw = settings.raw_dir
    return not raw.is_dir() or not any(p.is_file() for p in raw.rglob("*") if not p.name.startswith("."))


def ensure_sample_data(settings: Settings) -> bool:
    """Generate the sample data set into the landing zone when it holds no file; True if generated."""
    if not landing_zone_is_empty(settings):
        return False
    from segmentation_pipeline.synth import generate_landing_zone

    print(f"Landing zone {settings.raw_dir} is empty: generating the sample data set "
          f"({SAMPLE_CUSTOMERS:,} customers, {SAMPLE_DAYS} days, seed {SAMPLE_SEED})")  # fmt: skip
    generate_landing_zone(settings.data_dir, customers=SAMPLE_CUSTOMERS, days=SAMPLE_DAYS, seed=SAMPLE_SEED)
    return True


def dagster_instance() -> dg.DagsterInstance:
    """The DAGSTER_HOME instance when set (runs then show in `dagster dev`), else a throwaway one."""
    if os.environ.get("DAGSTER_HOME"):
        os.makedirs(os.environ["DAGSTER_HOME"], exist_ok=True)
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def run_pipeline(settings: Settings | None = None) -> bool:
    """Materialise every asset once, in one run. Returns True when the run succeeded."""
    settings = settings or Settings.from_env()
    ensure_sample_data(settings)
    from segmentation_pipeline.definitions import JOB_NAME, build_definitions

    started = time.perf_counter()
    job = build_definitions(settings).resolve_job_def(JOB_NAME)
    with dagster_instance() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
    elapsed = time.perf_counter() - started
    status = "succeeded" if result.success else "FAILED"
    print(f"Run {result.run_id} {status} in {elapsed:.1f} s (analysis date {settings.analysis_date()}); "
          f"warehouse: {settings.warehouse_path}")  # fmt: skip
    if not result.success:
        for event in result.all_events:
            if event.event_type_value == "STEP_FAILURE":
                print(
                    f"  step {event.step_key} failed: {event.event_specific_data.error.message.strip()[:2000]}"
                )
    return result.success
