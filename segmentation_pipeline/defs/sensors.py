"""Sensor on the landing zone: a new or re-landed file starts the daily job."""

import time

import dagster as dg

from segmentation_pipeline.contracts import SOURCES
from segmentation_pipeline.defs.resources import run_tags
from segmentation_pipeline.settings import Settings
from segmentation_pipeline.staging.landing import discover


def landing_file_sensor(job: dg.JobDefinition, settings: Settings) -> dg.SensorDefinition:
    raw_dir = settings.raw_dir

    @dg.sensor(
        name="landing_file_sensor",
        job=job,
        minimum_interval_seconds=60,
        description=f"Starts {job.name} when a file lands (or is re-landed) under raw/<source>/.",
    )
    def sensor(context: dg.SensorEvaluationContext):
        # The cursor is the newest modification time already acted on: new and re-landed files
        # both move it forward, and the cursor stays one number however many files there are.
        seen = int(context.cursor or 0)
        # A file still settling (perhaps being written) is left for a later tick: the run would
        # only make it wait, and the cursor would have moved past it.
        settled = time.time_ns() - int(settings.settle_seconds * 1e9)
        files = [f for source in SOURCES for f in discover(raw_dir, source)]
        fresh = [f for f in files if seen < f.mtime_ns <= settled]
        if not fresh:
            return dg.SkipReason(f"no new landing files in {raw_dir}")
        newest = max(f.mtime_ns for f in fresh)
        context.update_cursor(str(newest))
        return dg.RunRequest(
            run_key=f"landing-{newest}",
            tags={"trigger": "landing_file_sensor", "files": str(len(fresh)), **run_tags(settings)},
        )

    return sensor
