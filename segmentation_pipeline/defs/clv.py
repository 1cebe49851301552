"""Models layer, CLV: the BG/NBD, Pareto/NBD and Gamma-Gamma fits once per run (or reused), then every
customer's CLV and tier; in DuckLake mode one step per customer bucket (defs/partitioned.py)."""

import datetime as dt
import json

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from segmentation_pipeline.contracts import tables as contract
from segmentation_pipeline.defs.metadata import (
    contract_check_result,
    contract_check_spec,
    preview,
    table_metadata,
    table_spec,
)
from segmentation_pipeline.defs.partitioned import customer_partitioned_asset, read_run_plan
from segmentation_pipeline.defs.resources import PipelineSettings
from segmentation_pipeline.features.value_basis import ValueBasis, read_value_basis
from segmentation_pipeline.models.clv.fits import PARAMS_SCHEMA
from segmentation_pipeline.models.clv.predictions import (
    CLVApplication,
    CLVResult,
    StoredFit,
    compute_clv,
    predict_clv,
    with_tiers,
)
from segmentation_pipeline.stages import StageConfigs
from segmentation_pipeline.warehouse.buckets import (
    BUCKET_TABLE,
    Bucket,
    mark_bucket_customers,
    staged,
    start_staged,
    swap_staged,
)
from segmentation_pipeline.warehouse.tables import (
    ensure_table,
    insert_frame,
    query_frame,
    table_exists,
    transaction,
    write_table,
)

CLV_PREDICTIONS = contract.CLV_PREDICTIONS.table
CLV_MODEL_PARAMS = contract.CLV_MODEL_PARAMS.table


CLV_FIT_STATE = contract.CLV_FIT_STATE.table


def read_stored_fit(conn, basis: ValueBasis, holdout_days: int) -> StoredFit | None:
    """The published fits, when made on this value basis and holdout (else the run refits)."""
    ensure_table(conn, contract.CLV_FIT_STATE)
    rows = conn.execute(
        f"SELECT fitted_as_of, chosen_model, holdout_json FROM {CLV_FIT_STATE} "
        "WHERE value_basis = ? AND holdout_days = ?",
        [basis.basis, holdout_days],
    ).fetchall()
    if not rows or not table_exists(conn, CLV_MODEL_PARAMS):
        return None
    fitted_as_of, chosen, holdout = rows[0]
    params = query_frame(conn, f"SELECT * EXCLUDE (value_basis) FROM {CLV_MODEL_PARAMS}")
    return StoredFit(fitted_as_of, chosen, params.cast(PARAMS_SCHEMA), json.loads(holdout))


def read_clv_order_days(conn, basis: ValueBasis, only: str | None = None) -> pl.DataFrame:
    """The CLV stage's input: one row per counted order with its revenue and its value on `basis`
    (of the customers in table `only`; None: everyone)."""
    where = f" WHERE customer_id IN (SELECT customer_id FROM {only})" if only else ""
    return query_frame(
        conn,
        f"SELECT customer_id, order_date, revenue, {basis.basis} AS value FROM features.customer_orders{where}",
    )


CLV_SPECS = [
    table_spec(
        contract.CLV_PREDICTIONS,
        description="Per customer: P(alive), expected orders over 3 and 12 months, expected order value and the "
        "discounted 12-month margin CLV with its tier. The purchase model (BG/NBD or Pareto/NBD) is chosen on a "
        "holdout; too little data gives a warning and no CLV rather than untrustworthy numbers. The fits are reused "
        "by the runs of the following 6 days (CLVConfig.refit_every_days; SEGMENTATION_FULL_REFRESH=1 refits), "
        "every customer is still predicted from their own history each run.",
        kinds=("duckdb", "scipy"),
    ),
    table_spec(
        contract.CLV_MODEL_PARAMS,
        description="Fitted parameters of the CLV models with log-likelihood, customers and fit date.",
    ),
]
CLV_DEPS = [["features", "customer_orders"]]
CLV_CHECKS = [contract_check_spec(c) for c in (contract.CLV_PREDICTIONS, contract.CLV_MODEL_PARAMS)]


def _record_fit_state(conn, result: CLVResult, as_of: dt.date, basis: ValueBasis, holdout_days: int) -> None:
    """What later runs may reuse, when this run fitted (or refused), in the caller's transaction."""
    if result.reused_from is not None:
        return
    conn.execute(f"DELETE FROM {CLV_FIT_STATE}")
    if result.chosen_model is not None:
        conn.execute(
            f"INSERT INTO {CLV_FIT_STATE} VALUES (?, ?, ?, ?, ?, now()::TIMESTAMP)",
            [as_of, result.chosen_model, basis.basis, holdout_days, json.dumps(result.holdout)],
        )


def _clv_written(
    context,
    conn,
    result: CLVResult,
    basis: ValueBasis,
    params: pl.DataFrame,
    at_bound: dict,
    refit_every_days: int,
):
    """The CLV assets' metadata and contract checks, on the tables as written."""
    checks = [contract_check_result(conn, c) for c in (contract.CLV_PREDICTIONS, contract.CLV_MODEL_PARAMS)]
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
            "fits": dg.MetadataValue.text(
                f"reused from the run of {result.reused_from} (refitted every {refit_every_days} days)"
                if result.reused_from
                else "fitted this run"
            ),
            "value_basis": dg.MetadataValue.text(basis.describe()),
            "p_alive_basis": dg.MetadataValue.text(
                ", ".join(sorted(set(result.predictions["p_alive_basis"]))) or "none (CLV not computed)"
            ),
            "parameters_at_bound": dg.MetadataValue.json(at_bound),
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


def _fit_clv(
    conn, settings: PipelineSettings, stages: StageConfigs, predict: bool
) -> tuple[CLVResult, ValueBasis]:
    as_of, config = settings.analysis_date(), stages.clv
    basis = read_value_basis(conn, settings.rfm_monetary)
    stored = None if settings.full_refresh else read_stored_fit(conn, basis, config.holdout_days)
    order_days = read_clv_order_days(conn, basis)
    return compute_clv(order_days, as_of, config, value_column="value", stored=stored, predict=predict), basis


def _at_bound(result: CLVResult) -> dict:
    return {name: list(fit.at_bound) for name, fit in result.fits.items() if fit.at_bound}


@dg.multi_asset(
    specs=[spec.replace_attributes(deps=CLV_DEPS) for spec in CLV_SPECS],
    check_specs=CLV_CHECKS,
)
def clv_models(
    context: dg.AssetExecutionContext,
    settings: PipelineSettings,
    stages: dg.ResourceParam[StageConfigs],
    warehouse: DuckDBResource,
):
    as_of = settings.analysis_date()
    with warehouse.get_connection() as conn:
        result, basis = _fit_clv(conn, settings, stages, predict=True)
        params = result.params.with_columns(value_basis=pl.lit(basis.basis))
        with transaction(conn):  # all or nothing
            write_table(conn, contract.CLV_PREDICTIONS, result.predictions)
            write_table(conn, contract.CLV_MODEL_PARAMS, params)
            _record_fit_state(conn, result, as_of, basis, stages.clv.holdout_days)
        yield from _clv_written(
            context, conn, result, basis, params, _at_bound(result), stages.clv.refit_every_days
        )


def partitioned_clv_models(partitions: int) -> dg.AssetsDefinition:
    """`clv_models` as the fits once, one prediction step per customer-hash bucket, and a commit
    (DuckLake mode; defs/partitioned.py).

    The fit step decides everything that depends on the whole base (BG/NBD or Pareto/NBD with its
    holdout choice, Gamma-Gamma, P(alive)'s basis: `CLVApplication`) and records it with the
    parameters; each bucket predicts its customers with it into models.clv_predictions__next; the
    commit ranks the CLV tiers over everyone (a tier is a rank) and swaps predictions, parameters
    and the fit state in one transaction.
    """

    def prepare(context: dg.OpExecutionContext) -> None:
        settings, stages = context.resources.settings, context.resources.stages
        with context.resources.warehouse.get_connection() as conn:
            ensure_table(conn, contract.CLV_FIT_STATE)
            ensure_table(conn, contract.CLV_RUN_PLAN)
            result, basis = _fit_clv(conn, settings, stages, predict=False)
            plan = {
                "application": result.application.to_json() if result.application else None,
                "chosen_model": result.chosen_model,
                "holdout": result.holdout,
                "warnings": result.warnings,
                "reused_from": result.reused_from.isoformat() if result.reused_from else None,
                "at_bound": _at_bound(result),
            }
            with transaction(conn):
                start_staged(conn, contract.CLV_PREDICTIONS, filled_at_commit=("clv_tier",))
                write_table(
                    conn,
                    staged(contract.CLV_MODEL_PARAMS),
                    result.params.with_columns(value_basis=pl.lit(basis.basis)),
                )
                conn.execute(f"DELETE FROM {contract.CLV_RUN_PLAN.table}")
                conn.execute(
                    f"INSERT INTO {contract.CLV_RUN_PLAN.table} VALUES (?, ?, ?, now()::TIMESTAMP)",
                    [settings.analysis_date(), basis.basis, json.dumps(plan)],
                )
        context.log.info(
            f"CLV fits decided once for {partitions} customer buckets: {result.chosen_model or 'refused'}"
        )

    def read_plan(conn, as_of: dt.date) -> dict:
        return read_run_plan(conn, contract.CLV_RUN_PLAN.table, as_of, "CLV", "fit")

    def build_bucket(context: dg.OpExecutionContext, bucket: Bucket) -> None:
        settings, stages = context.resources.settings, context.resources.stages
        as_of = settings.analysis_date()
        with context.resources.warehouse.get_connection() as conn:
            plan = read_plan(conn, as_of)
            if plan["application"] is None:  # refused: no customer gets a CLV
                return
            basis = read_value_basis(conn, settings.rfm_monetary)
            customers = mark_bucket_customers(conn, bucket, "features.customer_orders")
            order_days = read_clv_order_days(conn, basis, only=BUCKET_TABLE)
            predictions = predict_clv(
                order_days,
                as_of,
                CLVApplication.from_json(plan["application"]),
                stages.clv,
                value_column="value",
            )
            with transaction(conn):
                insert_frame(conn, staged(contract.CLV_PREDICTIONS).table, predictions)
        context.log.info(f"bucket {bucket.index} of {bucket.of}: {customers:,} customers predicted")

    def commit(context: dg.OpExecutionContext):
        settings, stages = context.resources.settings, context.resources.stages
        as_of = settings.analysis_date()
        with context.resources.warehouse.get_connection() as conn:
            plan = read_plan(conn, as_of)
            basis = read_value_basis(conn, settings.rfm_monetary)
            predictions = with_tiers(
                query_frame(conn, f"SELECT * FROM {staged(contract.CLV_PREDICTIONS).table}"), stages.clv
            )
            params = query_frame(conn, f"SELECT * FROM {staged(contract.CLV_MODEL_PARAMS).table}")
            result = CLVResult(
                predictions,
                params,
                plan["holdout"],
                plan["chosen_model"],
                plan["warnings"],
                reused_from=dt.date.fromisoformat(plan["reused_from"]) if plan["reused_from"] else None,
            )
            with transaction(conn):  # all or nothing: the buckets' rows, ranked, with their parameters
                write_table(conn, contract.CLV_PREDICTIONS, predictions)
                conn.execute(f"DROP TABLE {staged(contract.CLV_PREDICTIONS).table}")
                swap_staged(conn, contract.CLV_MODEL_PARAMS)
                _record_fit_state(conn, result, as_of, basis, stages.clv.holdout_days)
            return list(
                _clv_written(
                    context, conn, result, basis, params, plan["at_bound"], stages.clv.refit_every_days
                )
            )

    return customer_partitioned_asset(
        "clv_models", CLV_SPECS, CLV_DEPS, CLV_CHECKS, prepare, build_bucket, commit, partitions
    )
