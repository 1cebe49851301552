"""Models layer, behavioural segments: the asset in one step (the DuckDB file), and what its DuckLake
split (defs/segment_buckets.py) shares with it: the input, the model state, the metadata."""

import datetime as dt

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from segmentation_pipeline.contracts import tables as contract
from segmentation_pipeline.defs.metadata import (
    contract_check_result,
    contract_check_spec,
    preview,
    table_metadata,
)
from segmentation_pipeline.defs.resources import PipelineSettings
from segmentation_pipeline.models.segmentation.clustering import (
    SegmentModel,
    segment_customers,
)
from segmentation_pipeline.stages import StageConfigs
from segmentation_pipeline.warehouse.tables import (
    ensure_table,
    insert_frame,
    query_frame,
    read_sql,
    table_exists,
    transaction,
    write_table,
)

CUSTOMER_SEGMENTS = contract.CUSTOMER_SEGMENTS.table

SEGMENTS_DESCRIPTION = (
    "Behavioural segment of every customer. k is chosen from 2 to 20 by silhouette relative to that of "
    "column-shuffled copies, on a sample, under a minimum segment share; the model is reused daily and refitted "
    "weekly or on drift, warm-started and aligned to the previous segments (Hungarian matching) so ids stay "
    "stable; prospects form segment 0."
)
SEGMENTS_DEPS = [
    ["features", "customer_features"],
    ["models", "rfm_scores"],
    ["models", "customer_classes"],
    ["models", "clv_predictions"],
]  # fmt: skip


def read_segmentation_input(conn, only: str | None = None) -> pl.DataFrame:
    """The segmentation input of every customer (of the customers in table `only`; None: everyone)."""
    return query_frame(conn, segmentation_input_sql(only))


def segmentation_input_sql(only: str | None) -> str:
    sql = read_sql("models/segmentation_input")
    return f"SELECT * FROM ({sql}) WHERE customer_id IN (SELECT customer_id FROM {only})" if only else sql


def previous_model(conn, as_of: dt.date) -> SegmentModel | None:
    rows = conn.execute(
        "SELECT model_json FROM models.segment_model_state WHERE as_of_date <= ? ORDER BY as_of_date DESC, recorded_at DESC LIMIT 1",
        [as_of],
    ).fetchall()
    return SegmentModel.from_json(rows[0][0]) if rows else None


def record_segment_state(
    conn, as_of: dt.date, model: SegmentModel, refitted: bool, reason: str, ari, drift, shift
) -> None:
    """This run's row of models.segment_model_state (replacing one of the same date), in the caller's transaction."""
    state = pl.DataFrame(
        [{
            "as_of_date": as_of, "fitted_at": model.fitted_at, "refitted": refitted, "reason": reason,
            "k": model.k, "ari_vs_previous": ari, "drift": drift, "share_shift": shift,
            "model_json": model.to_json(), "recorded_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
        }]
    )  # fmt: skip
    conn.execute("DELETE FROM models.segment_model_state WHERE as_of_date = ?", [as_of])
    insert_frame(conn, "models.segment_model_state", state)


def segments_metadata(
    table: dict, model: SegmentModel, refitted: bool, reason: str, ari: float | None, drift: float, sizes
) -> dict:
    scores = pl.DataFrame(
        {
            "k": list(model.k_scores),
            "score": list(model.k_scores.values()),  # silhouette / null silhouette: the choice
            "silhouette": [model.k_silhouette.get(k) for k in model.k_scores],
            "null_silhouette": [model.k_null_silhouette.get(k) for k in model.k_scores],
            "smallest_share": [model.k_min_share.get(k) for k in model.k_scores],
        }  # fmt: skip
    ).sort("k")
    return {
        **table,
        "k": dg.MetadataValue.int(model.k),
        "refitted": dg.MetadataValue.bool(refitted),
        "reason": dg.MetadataValue.text(reason),
        "ari_vs_previous": dg.MetadataValue.float(ari)
        if ari is not None
        else dg.MetadataValue.text("n/a (first run)"),
        "drift": dg.MetadataValue.float(drift),
        "silhouette_by_k": preview(scores, 20),
        "segment_sizes": preview(sizes, 25),
    }


@dg.asset(
    key=["models", "customer_segments"],
    group_name="models",
    kinds={"duckdb", "scikitlearn"},
    deps=SEGMENTS_DEPS,
    check_specs=[contract_check_spec(contract.CUSTOMER_SEGMENTS)],
    description=SEGMENTS_DESCRIPTION,
)
def customer_segments(
    context: dg.AssetExecutionContext,
    settings: PipelineSettings,
    stages: dg.ResourceParam[StageConfigs],
    warehouse: DuckDBResource,
) -> dg.MaterializeResult:
    as_of = settings.analysis_date()
    with warehouse.get_connection() as conn:
        ensure_table(conn, contract.SEGMENT_MODEL_STATE)
        profile = read_segmentation_input(conn)
        previous = previous_model(conn, as_of)
        previous_assignment = (
            query_frame(conn, f"SELECT customer_id, segment_id FROM {CUSTOMER_SEGMENTS}")
            if table_exists(conn, CUSTOMER_SEGMENTS)
            else None
        )
        result = segment_customers(profile, previous, previous_assignment, as_of, stages.segmentation)
        assignment = result.assignment.with_columns(as_of_date=pl.lit(as_of, pl.Date))
        with transaction(conn):
            record_segment_state(
                conn, as_of, result.model, result.refitted, result.reason,
                result.ari_vs_previous, result.drift, result.share_shift,
            )  # fmt: skip
            write_table(conn, contract.CUSTOMER_SEGMENTS, assignment)
        check = contract_check_result(conn, contract.CUSTOMER_SEGMENTS)
    context.log.info(f"segments: {result.reason}; ARI vs previous run: {result.ari_vs_previous}")
    sizes = assignment.group_by("segment_id").len("customers").sort("segment_id")
    return dg.MaterializeResult(
        check_results=[check],
        metadata=segments_metadata(
            table_metadata(contract.CUSTOMER_SEGMENTS, assignment),
            result.model,
            result.refitted,
            result.reason,
            result.ari_vs_previous,
            result.drift,
            sizes,
        ),  # fmt: skip
    )
