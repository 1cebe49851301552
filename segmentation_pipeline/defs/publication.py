"""Publication layer: the marts as a read-only DuckDB snapshot and Parquet files, for BI tools."""

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from segmentation_pipeline.defs.metadata import preview
from segmentation_pipeline.defs.resources import PipelineSettings
from segmentation_pipeline.publication.snapshot import publish_marts

MART_KEYS = [
    ["marts", "customer_profile"], ["marts", "segments"], ["marts", "rfm_segments"], ["marts", "segment_history"],
    ["marts", "segment_migrations"], ["marts", "clv_model_params"], ["marts", "data_quality"],
    ["marts", "service_queue"], ["marts", "segment_claims"],
]  # fmt: skip


@dg.asset(
    key=["publication", "marts_snapshot"],
    group_name="publication",
    kinds={"duckdb", "parquet"},
    deps=MART_KEYS,
    description="Publishes every marts table, once the run's blocking checks have passed, as "
    "$SEGMENTATION_DATA_DIR/marts.duckdb (a read-only snapshot swapped in by atomic rename) and as "
    "$SEGMENTATION_DATA_DIR/marts/<table>.parquet (a folder swapped in atomically). BI tools read these, never "
    "the working warehouse: an open BI connection neither blocks the run nor sees a half-published state.",
)
def marts_snapshot(
    context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: DuckDBResource
) -> dg.MaterializeResult:
    with warehouse.get_connection() as conn:
        data_dir = settings.settings().data_dir
        # One run at a time holds the warehouse: a temporary snapshot found now was left by a killed run.
        for stale in data_dir.glob(".marts.duckdb.*.tmp"):
            stale.unlink(missing_ok=True)
        publication = publish_marts(conn, data_dir, context.run.run_id, settings.analysis_date())
    tables = pl.DataFrame({"table": list(publication.tables), "rows": list(publication.tables.values())})
    if publication.beside:
        context.log.warning(
            f"backfill: the live snapshot is for a later date, so it stays; this run's marts are published "
            f"beside it as {publication.snapshot} and {publication.parquet_dir}/"
        )
    context.log.info(
        f"published {len(publication.tables)} tables to {publication.snapshot} and {publication.parquet_dir}/"
    )
    return dg.MaterializeResult(
        metadata={
            "snapshot": dg.MetadataValue.path(str(publication.snapshot.resolve())),
            "parquet_dir": dg.MetadataValue.path(str(publication.parquet_dir.resolve())),
            "tables": preview(tables, 20),
        }
    )
