"""Models layer: RFM scores, customer classes, CLV predictions and behavioural segments."""

from dataclasses import dataclass

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
from segmentation_pipeline.features.value_basis import ValueBasis, read_value_basis
from segmentation_pipeline.models.classes.customer_classes import ClassThresholds, classify_customers
from segmentation_pipeline.models.clv.predictions import CLVConfig, compute_clv
from segmentation_pipeline.models.rfm.scores import score_rfm
from segmentation_pipeline.warehouse.tables import query_frame, transaction, write_table

RFM_SCORES = contract.RFM_SCORES.table
CUSTOMER_CLASSES = contract.CUSTOMER_CLASSES.table
CUSTOMER_FEATURES_KEY = dg.AssetKey(["features", "customer_features"])


# The feature columns RFM and the classes use: reading these rather than all 58 saves ~0.25 s at 1M.
SCORE_INPUTS = [
    "customer_id", "as_of_date", "frequency", "purchase_days", "recency_days", "monetary", "margin",
    "first_order_date", "tenure_days", "late_payment_share", "mean_days_late", "return_rate", "nps",
]  # fmt: skip


@dataclass
class ScoreTables:
    rfm: pl.DataFrame
    classes: pl.DataFrame


def build_score_tables(conn, basis: ValueBasis) -> ScoreTables:
    """Read the features, score RFM, classify and write both tables: the asset minus Dagster
    (benchmarks/bench_features.py --warehouse times it after the features)."""
    columns = ", ".join(SCORE_INPUTS)
    features = query_frame(conn, f"SELECT {columns} FROM features.customer_features")
    rfm = score_rfm(features, monetary=basis.basis)
    classes = classify_customers(features, ClassThresholds())
    del features
    with transaction(conn):  # both or neither
        write_table(conn, contract.RFM_SCORES, rfm)
        write_table(conn, contract.CUSTOMER_CLASSES, classes)
    return ScoreTables(rfm=rfm, classes=classes)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["models", "rfm_scores"],
            description="R, F and M scores (1-5) and the named RFM segment of every customer.",
            deps=[CUSTOMER_FEATURES_KEY],
            kinds={"duckdb", "polars"},
            group_name="models",
        ),
        dg.AssetSpec(
            ["models", "customer_classes"],
            description="Customer classes of the articles: lifecycle, risk, volume and loyalty.",
            deps=[CUSTOMER_FEATURES_KEY],
            kinds={"duckdb", "polars"},
            group_name="models",
        ),
    ],
    check_specs=[contract_check_spec(c) for c in (contract.RFM_SCORES, contract.CUSTOMER_CLASSES)],
)
def customer_scores(context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: DuckDBResource):
    """RFM and classes from one read of the features."""
    with warehouse.get_connection() as conn:
        basis = read_value_basis(conn, settings.rfm_monetary)
        scores = build_score_tables(conn, basis)
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


CLV_PREDICTIONS = contract.CLV_PREDICTIONS.table
CLV_MODEL_PARAMS = contract.CLV_MODEL_PARAMS.table


def read_clv_order_days(conn, basis: ValueBasis) -> pl.DataFrame:
    """The CLV stage's input: one row per counted order with its revenue and its value on `basis`."""
    return query_frame(
        conn, f"SELECT customer_id, order_date, revenue, {basis.basis} AS value FROM features.customer_orders"
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["models", "clv_predictions"],
            description="Per customer: P(alive), expected orders over 3 and 12 months, expected order value and the "
            "discounted 12-month margin CLV with its tier. The purchase model (BG/NBD or Pareto/NBD) is chosen on a "
            "holdout; too little data gives a warning and no CLV rather than untrustworthy numbers.",
            deps=[["features", "customer_orders"]],
            kinds={"duckdb", "scipy"},
            group_name="models",
        ),
        dg.AssetSpec(
            ["marts", "clv_model_params"],
            description="Fitted parameters of the CLV models with log-likelihood, customers and fit date.",
            deps=[["features", "customer_orders"]],
            kinds={"duckdb"},
            group_name="marts",
        ),
    ],
    check_specs=[contract_check_spec(c) for c in (contract.CLV_PREDICTIONS, contract.CLV_MODEL_PARAMS)],
)
def clv_models(context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: DuckDBResource):
    as_of = settings.analysis_date()
    config = CLVConfig(holdout_days=settings.holdout_days, annual_discount_rate=settings.annual_discount_rate)
    with warehouse.get_connection() as conn:
        basis = read_value_basis(conn, settings.rfm_monetary)
        result = compute_clv(read_clv_order_days(conn, basis), as_of, config, value_column="value")
        params = result.params.with_columns(value_basis=pl.lit(basis.basis))
        with transaction(conn):  # both or neither
            write_table(conn, contract.CLV_PREDICTIONS, result.predictions)
            write_table(conn, contract.CLV_MODEL_PARAMS, params)
        checks = [
            contract_check_result(conn, c) for c in (contract.CLV_PREDICTIONS, contract.CLV_MODEL_PARAMS)
        ]
    for warning in result.warnings:
        context.log.warning(warning)
    holdout = (
        pl.DataFrame([{"model": name, **metrics} for name, metrics in result.holdout.items()])
        if result.holdout
        else pl.DataFrame()
    )
    yield dg.MaterializeResult(
        asset_key=["models", "clv_predictions"],
        metadata={
            **table_metadata(contract.CLV_PREDICTIONS, result.predictions),
            "chosen_model": dg.MetadataValue.text(result.chosen_model or "none (CLV not computed)"),
            "value_basis": dg.MetadataValue.text(basis.describe()),
            "p_alive_basis": dg.MetadataValue.text(
                ", ".join(sorted(set(result.predictions["p_alive_basis"]))) or "none (CLV not computed)"
            ),
            "parameters_at_bound": dg.MetadataValue.json(
                {name: list(fit.at_bound) for name, fit in result.fits.items() if fit.at_bound}
            ),
            "holdout": preview(holdout),
            "warnings": dg.MetadataValue.json(result.warnings),
            "clv_12m_total": dg.MetadataValue.float(float(result.predictions["clv_12m"].sum() or 0.0)),
        },
    )
    yield dg.MaterializeResult(
        asset_key=["marts", "clv_model_params"],
        metadata=table_metadata(contract.CLV_MODEL_PARAMS, params, rows=20),
    )
    yield from checks
