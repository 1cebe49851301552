"""The one place that assembles assets, checks, jobs, schedules, sensors and resources."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from segmentation_pipeline.assets.quality import data_quality
from segmentation_pipeline.assets.staging import staging_assets
from segmentation_pipeline.resources import PipelineSettings
from segmentation_pipeline.sensors import landing_file_sensor
from segmentation_pipeline.settings import Settings

settings = Settings.from_env()

all_assets = [*staging_assets, data_quality]

# One process, steps in order: DuckDB admits one writer per file, and per-step process start-up
# would dominate a daily run (see README, "Growing past one machine", for the multiprocess set-up).
daily_segmentation = dg.define_asset_job(
    "daily_segmentation",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="Materialise every asset once: ingest, validate, features, models, marts.",
)

daily_schedule = dg.ScheduleDefinition(
    name="daily_segmentation_schedule",
    job=daily_segmentation,
    cron_schedule="0 6 * * *",
    execution_timezone="Europe/Paris",
    description="Every morning at 06:00 Paris time.",
)

defs = dg.Definitions(
    assets=all_assets,
    jobs=[daily_segmentation],
    schedules=[daily_schedule],
    sensors=[landing_file_sensor(daily_segmentation, settings.raw_dir)],
    resources={
        "settings": PipelineSettings.from_settings(settings),
        "warehouse": DuckDBResource(database=str(settings.warehouse_path)),
    },
    executor=dg.in_process_executor,
)
