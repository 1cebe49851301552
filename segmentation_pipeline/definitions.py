"""The one place that assembles assets, checks, jobs, schedules, sensors and resources."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from segmentation_pipeline.defs import (
    clv,
    features,
    marts,
    models,
    publication,
    quality,
    reports,
    segment_buckets,
    segments,
    staging,
)
from segmentation_pipeline.defs.executors import lake_executor
from segmentation_pipeline.defs.resources import (
    LakeWarehouse,
    PipelineSettings,
    StageConfigsResource,
    Warehouse,
    run_tags,
)
from segmentation_pipeline.defs.sensors import landing_file_sensor
from segmentation_pipeline.settings import Settings

JOB_NAME = "daily_segmentation"
ASSET_MODULES = [staging, features, models, clv, segments, marts, quality, reports, publication]


def warehouse_resource(settings: Settings) -> Warehouse | LakeWarehouse:
    """The warehouse of SEGMENTATION_WAREHOUSE: the DuckDB file (default) or the DuckLake."""
    if settings.warehouse == "ducklake":
        return LakeWarehouse(
            catalog=settings.ducklake_catalog,
            data_path=settings.lake_data_path,
            connection_config=settings.duckdb_config(),
        )
    return Warehouse(
        database=str(settings.warehouse_path),
        lock_wait_seconds=settings.lock_wait_seconds,
        connection_config=settings.duckdb_config(),
    )


def resources(settings: Settings, warehouse: DuckDBResource | None = None) -> dict[str, object]:
    """The assets' resources over one set of settings (a test may bring its own warehouse)."""
    # Settings were checked as they were made (a bad value fails as the definitions load); a run's
    # config may change them, and the stage configs are made from them as the run starts.
    pipeline_settings = PipelineSettings.from_settings(settings)
    return {
        "settings": pipeline_settings,
        "stages": StageConfigsResource(settings=pipeline_settings),
        "warehouse": warehouse or warehouse_resource(settings),
    }


def job_executor(settings: Settings) -> dg.ExecutorDefinition:
    """In-process for the DuckDB file; parallel step processes for the DuckLake."""
    # DuckDB admits one writer per file, so its steps run in order in one process (and per-step
    # process start-up would dominate a daily run). A DuckLake takes concurrent writers: each step
    # runs in its own process, `workers` at a time (README, "Growing past one machine").
    # Step processes fork from a server that has imported the definitions once (forkserver with
    # preloading): a spawned process would import Dagster, Polars and the assets again per step,
    # seconds each, more than most steps take.
    # One run at a time per lake: the run holds a lock on the lake's catalog (defs/executors.py).
    if settings.warehouse == "ducklake":
        return lake_executor(
            settings,
            {
                "max_concurrent": settings.workers,
                "start_method": {"forkserver": {"preload_modules": ["segmentation_pipeline.definitions"]}},
            },
        )
    return dg.in_process_executor


def customer_partitions(settings: Settings) -> int:
    """How many customer-hash buckets the per-customer stages split into: 1 (one step) on the DuckDB file."""
    return settings.customer_partitions if settings.warehouse == "ducklake" else 1


def asset_definitions(settings: Settings) -> list:
    """Every asset; in DuckLake mode with partitions, the per-customer stages as one step per bucket.

    The DuckDB file admits one writer and runs its steps one after the other in one process, so
    buckets there would only add steps: its stages stay one step each (defs/partitioned.py says why
    a fixed fan-out in a graph-backed asset rather than Dagster partitions or dynamic outputs).
    """
    assets = dg.load_assets_from_modules(ASSET_MODULES)
    partitions = customer_partitions(settings)
    if partitions == 1:
        return assets
    partitioned = [
        features.partitioned_customer_feature_tables(partitions),
        clv.partitioned_clv_models(partitions),
        segment_buckets.partitioned_customer_segments(partitions),
        marts.partitioned_customer_profile(partitions),
    ]
    replaced = {key for asset in partitioned for key in asset.keys}
    return [asset for asset in assets if not set(getattr(asset, "keys", ())) & replaced] + partitioned


def build_definitions(settings: Settings) -> dg.Definitions:
    """Definitions bound to one set of settings (the environment's by default, a test's in tests)."""
    daily_segmentation = dg.define_asset_job(
        JOB_NAME,
        selection=dg.AssetSelection.all(),
        executor_def=job_executor(settings),
        description="Materialise every asset once: ingest, validate, features, models, marts.",
    )

    @dg.schedule(
        name="daily_segmentation_schedule",
        job=daily_segmentation,
        cron_schedule="0 6 * * *",
        execution_timezone="Europe/Paris",
        description="Every morning at 06:00 Paris time.",
    )
    def daily_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        # The analysis date is resolved at the tick and recorded on the run.
        return dg.RunRequest(tags=run_tags(settings))

    return dg.Definitions(
        assets=asset_definitions(settings),
        asset_checks=dg.load_asset_checks_from_modules(ASSET_MODULES),
        jobs=[daily_segmentation],
        schedules=[daily_schedule],
        sensors=[landing_file_sensor(daily_segmentation, settings)],
        resources=resources(settings),
        executor=job_executor(settings),
    )


def daily_job_from_env() -> dg.JobDefinition:
    """The daily job over the environment's settings: what each step process of a parallel run rebuilds."""
    return build_definitions(Settings.from_env()).resolve_job_def(JOB_NAME)


defs = build_definitions(Settings.from_env())
