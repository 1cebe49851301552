"""Models layer: RFM scores and customer classes (CLV: defs/clv.py; segments: defs/segments.py)."""

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
from segmentation_pipeline.stages import StageConfigs
from segmentation_pipeline.warehouse.tables import (
    query_frame,
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
