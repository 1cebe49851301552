"""Models layer: RFM scores, customer classes and behavioural segments (CLV: defs/clv.py)."""

import datetime as dt
from dataclasses import dataclass

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from segmentation_pipeline.contracts import tables as contract
from segmentation_pipeline.contracts.tables.consumers import CUSTOMER_SCORES_READS
from segmentation_pipeline.defs.metadata import (
    contract_check_result,
    contract_check_spec,
    preview,
    table_metadata,
    table_spec,
)
from segmentation_pipeline.defs.resources import PipelineSettings
from segmentation_pipeline.features.value_basis import ValueBasis, read_value_basis
from segmentation_pipeline.models.classes.customer_classes import ClassThresholds, classify_customers
from segmentation_pipeline.models.rfm.scores import score_rfm
from segmentation_pipeline.models.segmentation.clustering import SegmentModel, segment_customers
from segmentation_pipeline.stages import StageConfigs
from segmentation_pipeline.warehouse.tables import (
    ensure_table,
    insert_frame,
    query_frame,
    read_sql,
    transaction,
    write_table,
)

RFM_SCORES = contract.RFM_SCORES.table
CUSTOMER_CLASSES = contract.CUSTOMER_CLASSES.table
CUSTOMER_FEATURES_KEY = dg.AssetKey(["features", "customer_features"])


@dataclass
class ScoreTables:
    rfm: pl.DataFrame
    classes: pl.DataFrame


def build_score_tables(conn, basis: ValueBasis, thresholds: ClassThresholds | None = None) -> ScoreTables:
    """Read the features, score RFM, classify and write both tables: the asset minus Dagster
    (benchmarks/bench_features.py --warehouse times it after the features)."""
    # Only the feature columns RFM and the classes use (their consumer declaration): reading these
    # rather than every feature saves time at scale (benchmarks/README.md).
    columns = ", ".join(CUSTOMER_SCORES_READS.columns)
    features = query_frame(conn, f"SELECT {columns} FROM features.customer_features")
    rfm = score_rfm(features, monetary=basis.basis)
    classes = classify_customers(features, thresholds or ClassThresholds())
    del features
    with transaction(conn):  # both or neither
        write_table(conn, contract.RFM_SCORES, rfm)
        write_table(conn, contract.CUSTOMER_CLASSES, classes)
    return ScoreTables(rfm=rfm, classes=classes)


@dg.multi_asset(
    specs=[
        table_spec(
            contract.RFM_SCORES,
            description="R, F and M scores (1-5) and the named RFM segment of every customer.",
            deps=[CUSTOMER_FEATURES_KEY],
            kinds=("duckdb", "polars"),
        ),
        table_spec(
            contract.CUSTOMER_CLASSES,
            description="Customer classes of the articles: lifecycle, risk, volume and loyalty.",
            deps=[CUSTOMER_FEATURES_KEY],
            kinds=("duckdb", "polars"),
        ),
    ],
    check_specs=[contract_check_spec(c) for c in (contract.RFM_SCORES, contract.CUSTOMER_CLASSES)],
)
def customer_scores(
    context: dg.AssetExecutionContext,
    settings: PipelineSettings,
    stages: dg.ResourceParam[StageConfigs],
    warehouse: DuckDBResource,
):
    """RFM and classes from one read of the features."""
    with warehouse.get_connection() as conn:
        basis = read_value_basis(conn, settings.rfm_monetary)
        scores = build_score_tables(conn, basis, stages.classes)
        checks = [contract_check_result(conn, c) for c in (contract.RFM_SCORES, contract.CUSTOMER_CLASSES)]
    context.log.info(basis.describe())
    rfm, classes = scores.rfm, scores.classes
    segment_counts = rfm.group_by("rfm_segment").len().sort("len", descending=True)
    yield dg.MaterializeResult(
        asset_key=["models", "rfm_scores"],
        metadata={
            **table_metadata(contract.RFM_SCORES, rfm),
            "value_basis": dg.MetadataValue.text(basis.describe()),
            "segments": preview(segment_counts, 12),
        },
    )
    yield dg.MaterializeResult(
        asset_key=["models", "customer_classes"],
        metadata={
            **table_metadata(contract.CUSTOMER_CLASSES, classes),
            "lifecycle": preview(classes.group_by("lifecycle_stage").len().sort("lifecycle_stage")),
        },
    )
    yield from checks


def one_row_per_customer(conn, table: str) -> tuple[bool, dict]:
    rows, distinct, expected = conn.execute(
        f"SELECT count(*), count(DISTINCT customer_id), (SELECT count(*) FROM features.customer_features) FROM {table}"
    ).fetchall()[0]
    return rows == distinct == expected, {"rows": rows, "distinct_customers": distinct, "customers": expected}


@dg.asset_check(
    asset=["models", "rfm_scores"],
    blocking=True,
    description="Every customer exactly once; scores within 1-5.",
)
def rfm_scores_are_complete(warehouse: DuckDBResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as conn:
        complete, counts = one_row_per_customer(conn, RFM_SCORES)
        bad_scores, unassigned = conn.execute(
            f"""SELECT count(*) FILTER (WHERE r_score NOT BETWEEN 1 AND 5 OR f_score NOT BETWEEN 1 AND 5
                                        OR m_score NOT BETWEEN 1 AND 5),
                       count(*) FILTER (WHERE rfm_segment IS NULL)
                FROM {RFM_SCORES}"""
        ).fetchall()[0]
    return dg.AssetCheckResult(
        passed=complete and bad_scores == 0 and unassigned == 0,
        metadata={**counts, "scores_outside_1_5": bad_scores, "without_segment": unassigned},
    )


@dg.asset_check(
    asset=["models", "customer_classes"],
    blocking=True,
    description="Every customer exactly once, every class set.",
)
def customer_classes_are_complete(warehouse: DuckDBResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as conn:
        complete, counts = one_row_per_customer(conn, CUSTOMER_CLASSES)
        missing = conn.execute(
            f"""SELECT count(*) FROM {CUSTOMER_CLASSES} WHERE lifecycle_stage IS NULL OR risk_class IS NULL
                OR volume_class IS NULL OR loyalty_class IS NULL"""
        ).fetchall()[0][0]
    return dg.AssetCheckResult(
        passed=complete and missing == 0, metadata={**counts, "with_missing_class": missing}
    )


CUSTOMER_SEGMENTS = contract.CUSTOMER_SEGMENTS.table


def read_segmentation_input(conn) -> pl.DataFrame:
    return query_frame(conn, read_sql("models/segmentation_input"))


def _previous_model(conn, as_of: dt.date) -> SegmentModel | None:
    rows = conn.execute(
        "SELECT model_json FROM models.segment_model_state WHERE as_of_date <= ? ORDER BY as_of_date DESC, recorded_at DESC LIMIT 1",
        [as_of],
    ).fetchall()
    return SegmentModel.from_json(rows[0][0]) if rows else None


@dg.asset(
    key=["models", "customer_segments"],
    group_name="models",
    kinds={"duckdb", "scikitlearn"},
    deps=[
        ["features", "customer_features"],
        ["models", "rfm_scores"],
        ["models", "customer_classes"],
        ["models", "clv_predictions"],
    ],  # fmt: skip
    check_specs=[contract_check_spec(contract.CUSTOMER_SEGMENTS)],
    description="Behavioural segment of every customer. k is chosen from 2 to 20 by silhouette relative to that of "
    "column-shuffled copies, on a sample, under a minimum segment share; the model is reused daily and refitted weekly or on drift, warm-started and aligned to "
    "the previous segments (Hungarian matching) so ids stay stable; prospects form segment 0.",
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
        previous = _previous_model(conn, as_of)
        previous_assignment = (
            query_frame(conn, f"SELECT customer_id, segment_id FROM {CUSTOMER_SEGMENTS}")
            if conn.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'models' AND table_name = 'customer_segments'"
            ).fetchall()[0][0]
            else None
        )
        result = segment_customers(profile, previous, previous_assignment, as_of, stages.segmentation)
        assignment = result.assignment.with_columns(as_of_date=pl.lit(as_of, pl.Date))
        state = pl.DataFrame(
            [{
                "as_of_date": as_of, "fitted_at": result.model.fitted_at, "refitted": result.refitted,
                "reason": result.reason, "k": result.model.k, "ari_vs_previous": result.ari_vs_previous,
                "drift": result.drift, "share_shift": result.share_shift, "model_json": result.model.to_json(),
                "recorded_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
            }]
        )  # fmt: skip
        with transaction(conn):
            conn.execute("DELETE FROM models.segment_model_state WHERE as_of_date = ?", [as_of])
            insert_frame(conn, "models.segment_model_state", state)
            write_table(conn, contract.CUSTOMER_SEGMENTS, assignment)
        check = contract_check_result(conn, contract.CUSTOMER_SEGMENTS)
    context.log.info(f"segments: {result.reason}; ARI vs previous run: {result.ari_vs_previous}")
    sizes = assignment.group_by("segment_id").len("customers").sort("segment_id")
    scores = pl.DataFrame(
        {
            "k": list(result.k_scores),
            "score": list(result.k_scores.values()),  # silhouette / null silhouette: the choice
            "silhouette": [result.model.k_silhouette.get(k) for k in result.k_scores],
            "null_silhouette": [result.model.k_null_silhouette.get(k) for k in result.k_scores],
            "smallest_share": [result.model.k_min_share.get(k) for k in result.k_scores],
        }  # fmt: skip
    ).sort("k")
    return dg.MaterializeResult(
        check_results=[check],
        metadata={
            **table_metadata(contract.CUSTOMER_SEGMENTS, assignment),
            "k": dg.MetadataValue.int(result.model.k),
            "refitted": dg.MetadataValue.bool(result.refitted),
            "reason": dg.MetadataValue.text(result.reason),
            "ari_vs_previous": dg.MetadataValue.float(result.ari_vs_previous)
            if result.ari_vs_previous is not None
            else dg.MetadataValue.text("n/a (first run)"),
            "drift": dg.MetadataValue.float(result.drift),
            "silhouette_by_k": preview(scores, 20),
            "segment_sizes": preview(sizes, 25),
        },
    )
