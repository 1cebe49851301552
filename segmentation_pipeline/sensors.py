"""Sensor on the landing zone: a new or re-landed file starts the daily job."""

from pathlib import Path

import dagster as dg

from segmentation_pipeline.contracts import SOURCES
from segmentation_pipeline.ingest.landing import discover


def landing_file_sensor(job: dg.JobDefinition, raw_dir: Path) -> dg.SensorDefinition:
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
        files = [f for source in SOURCES for f in discover(raw_dir, source)]
        fresh = [f for f in files if f.mtime_ns > seen]
        if not fresh:
            return dg.SkipReason(f"no new landing files in {raw_dir}")
        newest = max(f.mtime_ns for f in fresh)
        context.update_cursor(str(newest))
        return dg.RunRequest(
            run_key=f"landing-{newest}",
            tags={"trigger": "landing_file_sensor", "files": str(len(fresh))},
        )

    return sensor
