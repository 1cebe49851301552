"""Staging layer: one asset per source loading new landing files, each with a blocking rejected-share check."""

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from segmentation_pipeline.contracts import SOURCES, SourceContract
from segmentation_pipeline.contracts.docs import COLUMN_DESCRIPTIONS, SOURCE_DESCRIPTIONS
from segmentation_pipeline.contracts.tables.ops import LANDING_DATE, ROW_NUMBER, SOURCE_FILE
from segmentation_pipeline.defs.metadata import column_schema, preview
from segmentation_pipeline.defs.resources import PipelineSettings
from segmentation_pipeline.staging.gate import (
    Hold,
    counted_rejections,
    counted_share,
    files_to_hold,
    hold,
    open_holds,
)
from segmentation_pipeline.staging.load import load_source
from segmentation_pipeline.staging.outcome import SourceLoad
from segmentation_pipeline.staging.tables import LOADED_AT
from segmentation_pipeline.warehouse.tables import ensure_schemas

REJECTED_SHARE_CHECK = "rejected_share_below_threshold"


def rejected_share_check(
    load: SourceLoad, threshold: float, holds: list[Hold] | None = None
) -> dg.AssetCheckResult:
    """Fail while a file of the source is held: this run's rejected share passed the threshold, a
    file was unreadable or suspicious, or an earlier run held a file nobody has re-landed or accepted."""
    quarantined, received, share = counted_share(load)
    holds = holds if holds is not None else []
    unreadable = [o for o in load.outcomes if o.status == "rejected" and o.rows_received is None]
    worst = sorted(
        (o for o in load.outcomes if counted_rejections(o) or o.error),
        key=lambda o: -(counted_rejections(o) / o.rows_received if o.rows_received else 1.0),
    )
    top_reasons = load.reasons.most_common(5)
    passed = share <= threshold and not unreadable and not load.suspicious and not holds
    files_text = "; ".join(
        f"{o.file.relpath}: "
        + (
            f"{counted_rejections(o)}/{o.rows_received} rows rejected ({counted_rejections(o) / o.rows_received:.1%})"
            if o.rows_received
            else f"unreadable ({o.error})"
        )
        for o in worst[:5]
    )
    reasons_text = "; ".join(f"{rule} ×{count}" for rule, count in top_reasons)
    held_text = "; ".join(f"{h.file} ({h.reason}; held {h.held_at:%Y-%m-%d %H:%M} UTC)" for h in holds[:10])
    description = (
        f"{load.source}: {quarantined:,} of {received:,} rows rejected this run ({share:.2%}, threshold {threshold:.0%})"
        + (
            f", {load.rows_expected:,} more expected (SEGMENTATION_EXPECTED_REJECTIONS)"
            if load.rows_expected
            else ""
        )
        + (f"; {len(unreadable)} file(s) unreadable" if unreadable else "")
        + (f". Files: {files_text}" if files_text else "")
        + (f". Top reasons: {reasons_text}" if reasons_text else "")
        + (
            f". HELD until re-landed or accepted: {held_text}. To accept: "
            f"python -m segmentation_pipeline accept {load.source} FILE"
            if holds
            else ""
        )
    )
    return dg.AssetCheckResult(
        check_name=REJECTED_SHARE_CHECK,
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=description,
        metadata={
            "rejected_share": dg.MetadataValue.float(share),
            "threshold": dg.MetadataValue.float(threshold),
            "rows_received": dg.MetadataValue.int(received),
            "rows_quarantined": dg.MetadataValue.int(quarantined),
            "rows_expected": dg.MetadataValue.int(load.rows_expected),
            "unreadable_files": dg.MetadataValue.json([o.file.relpath for o in unreadable]),
            "held_files": dg.MetadataValue.json([h.file for h in holds]),
            "top_reasons": dg.MetadataValue.json(dict(top_reasons)),
        },
    )


def _file_table(load: SourceLoad) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "file": [o.file.relpath for o in load.outcomes],
            "status": [o.status for o in load.outcomes],
            "received": [o.rows_received for o in load.outcomes],
            "loaded": [o.rows_loaded for o in load.outcomes],
            "quarantined": [o.rows_quarantined for o in load.outcomes],
            "error": [o.error for o in load.outcomes],
        },
        schema={
            "file": pl.String,
            "status": pl.String,
            "received": pl.Int64,
            "loaded": pl.Int64,
            "quarantined": pl.Int64,
            "error": pl.String,
        },
    ).sort("quarantined", "file", descending=[True, False])


def build_staging_asset(contract: SourceContract) -> dg.AssetsDefinition:
    key = dg.AssetKey(["staging", contract.name])
    lineage = {SOURCE_FILE: pl.String, ROW_NUMBER: pl.Int64, LANDING_DATE: pl.Date, LOADED_AT: pl.Datetime}

    @dg.asset(
        key=key,
        group_name="staging",
        kinds={"duckdb", "polars", "pandera"},
        description=(
            f"{SOURCE_DESCRIPTIONS[contract.name]}\n\nLoads new or changed files from `raw/{contract.name}/` "
            f"(manifest `ops.landing_files`), validated with the Pandera model `{contract.model.__name__}`; "
            f"bad rows go to `quarantine.{contract.name}` with the rule they failed."
        ),
        metadata={
            "dagster/column_schema": column_schema({**contract.columns, **lineage}, COLUMN_DESCRIPTIONS),
            "dagster/table_name": f"staging.{contract.name}",
            "required": "yes" if contract.name == "orders" else "no (may be absent)",
        },
        check_specs=[
            dg.AssetCheckSpec(
                name=REJECTED_SHARE_CHECK,
                asset=key,
                blocking=True,
                description="Rows rejected by this run stay under the threshold (SEGMENTATION_REJECT_THRESHOLD).",
            )
        ],
    )
    def staging_source(
        context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: DuckDBResource
    ):
        as_of = settings.analysis_date()
        run_settings = settings.settings()
        run_settings.data_dir.mkdir(parents=True, exist_ok=True)
        with warehouse.get_connection() as conn:
            ensure_schemas(conn)
            load = load_source(
                conn, run_settings.raw_dir, contract, as_of, context.run.run_id,
                expected_rules=run_settings.expected_rules(contract.name),
                settle_seconds=run_settings.settle_seconds,
            )  # fmt: skip
            verdict = rejected_share_check(load, settings.reject_threshold)
            hold(
                conn, contract.name, files_to_hold(load, share_failed=not verdict.passed), context.run.run_id
            )
            holds = open_holds(conn, contract.name)
            total = conn.execute(f"SELECT count(*) FROM staging.{contract.name}").fetchall()[0][0]
        for warning in load.warnings:
            context.log.warning(warning)
        context.log.info(
            f"{contract.name}: {len(load.outcomes)} new/changed file(s) of {load.files_seen} "
            f"({load.files_unchanged} unchanged, {load.files_deferred} after {as_of}, {load.files_waiting} waiting); "
            f"{load.rows_loaded:,} rows loaded, {load.rows_quarantined:,} quarantined"
        )
        yield dg.MaterializeResult(
            metadata={
                "dagster/row_count": dg.MetadataValue.int(total),
                "as_of_date": dg.MetadataValue.text(as_of.isoformat()),
                "files_loaded": dg.MetadataValue.int(len(load.outcomes)),
                "files_unchanged": dg.MetadataValue.int(load.files_unchanged),
                "files_waiting": dg.MetadataValue.int(load.files_waiting),
                "rows_received": dg.MetadataValue.int(load.rows_received),
                "rows_loaded": dg.MetadataValue.int(load.rows_loaded),
                "rows_quarantined": dg.MetadataValue.int(load.rows_quarantined),
                "rows_expected": dg.MetadataValue.int(load.rows_expected),
                "warnings": dg.MetadataValue.json(load.warnings[:20]),
                "files": preview(_file_table(load), 15),
            }
        )
        yield rejected_share_check(load, settings.reject_threshold, holds)

    return staging_source


staging_assets = [build_staging_asset(contract) for contract in SOURCES.values()]
