"""Customer lifetime value stage: purchase summaries, model choice on a holdout, 12-month CLV.

Role: the pipeline-facing CLV logic (pure Polars/NumPy, no Dagster). It turns one row per counted
order into, per customer, P(alive), expected purchases over 3 and 12 months, expected order value
and a discounted 12-month margin CLV with a rank tier, plus the fitted parameters
(`marts.clv_model_params`) and holdout diagnostics. The statistics live in `btyd`.

Decisions (why, in short):
- Purchases are counted per distinct day (several orders on one day = one purchase), as the
  published BG/NBD / Pareto/NBD fits do; "expected orders" are expected purchase days.
- Holdout: the last `holdout_days` before `as_of` are held out; BG/NBD and Pareto/NBD are fitted
  on the calibration period, each converged fit predicts the holdout purchases of the
  calibration customers, and the model with the lowest mean absolute error per customer wins
  (MAE rather than RMSE: per-customer ranking matters more than a few heavy buyers). Above
  `selection_sample` customers (default 100k) this comparison runs on a seeded random sample,
  which decides between two models just as well and keeps the stage within seconds at a
  million customers. The winner is then refitted on the full history up to `as_of` and every
  customer, warm-started from its calibration fit; only that refit makes predictions. If it
  fails, the runner-up is tried; a fit that did not converge is never used.
- Refit cadence: a run reuses the fits of a run at most `refit_every_days - 1` days earlier
  (`StoredFit`: same value basis and holdout) and only predicts, for every customer, from their
  own purchases up to its `as_of`: at a million customers the fits are most of the stage (issue
  15), and a few days of new orders barely move parameters estimated on two years.
- Gate: fewer than `min_repeat_buyers` repeat buyers in the calibration period, or fewer than
  `min_history_days` between the first order in the data and `as_of`, gives a warning and an
  EMPTY predictions frame (same columns): the pipeline leaves its CLV columns null instead of
  publishing numbers from an untrustworthy model. No converged purchase model has the same effect.
- Money is margin. Gamma-Gamma is fitted on repeat buyers' mean margin per repeat purchase day,
  using only customers whose mean is > 0 (the model needs positive values). Prediction of margin
  per purchase: Gamma-Gamma conditional mean for x = 0 (population mean) and for positive means;
  a repeat buyer whose mean repeat margin is <= 0 keeps that observed mean (no shrinkage: the
  model cannot represent losses, and inventing profit would be worse), so their CLV is <= 0.
- expected_order_value is revenue: expected margin per purchase / the customer's margin rate
  (total margin / total revenue up to `as_of`); when that rate is not positive, the customer's
  observed mean revenue per purchase day is used instead.
- clv_12m discounts monthly: month m (of 365.25/12 days) contributes the expected purchases in
  that month times expected margin per purchase, discounted by (1 + annual rate)^(m/12), i.e.
  as if paid at the end of the month.
- If Gamma-Gamma cannot be fitted (too few positive repeat buyers) the purchase predictions are
  kept and the money columns are null, with a warning. If its fit is unusable (no convergence, or
  q <= 1: spend too heavy-tailed, infinite mean), each customer's own mean repeat margin is used
  instead (the repeat buyers' mean for one-time buyers), with a warning.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl

from segmentation_pipeline.models import btyd
from segmentation_pipeline.models.clv.fits import (
    PARAMS_SCHEMA,
    fit_model,
    holdout_metrics,
    params_frame,
    rfm_data,
)
from segmentation_pipeline.models.clv.purchases import aggregate_purchases, purchase_summary

DAYS_PER_MONTH = 365.25 / 12
TIERS = ("top 1%", "1-5%", "5-10%", "10-25%", "25-50%", "bottom 50%")
_TIER_CUTS = (0.01, 0.05, 0.10, 0.25, 0.50)


@dataclass(frozen=True)
class CLVConfig:
    """Settings of the CLV stage; the defaults are the production ones."""

    holdout_days: int = 90
    annual_discount_rate: float = 0.10
    time_unit_days: float = 7.0
    min_repeat_buyers: int = 50
    min_history_days: int = 180
    short_horizon_months: int = 3
    horizon_months: int = 12
    # Customers (seeded sample) used for the two calibration fits that only choose the model;
    # None = all. The chosen model is always refitted on every customer.
    selection_sample: int | None = 100_000
    # The fitted models are reused by the daily runs that follow, for this many days from the fit's
    # analysis date (predictions are still made for every customer with their own history, which
    # moves daily): the fits are most of the stage's time (issue 15), and a week of new orders
    # moves 2 years' parameters little. 1 = refit on every run.
    refit_every_days: int = 7


@dataclass(frozen=True)
class StoredFit:
    """The fits an earlier run made and published (`marts.clv_model_params`), for reuse."""

    fitted_as_of: date  # the analysis date of the run that fitted them
    chosen_model: str
    params: pl.DataFrame  # PARAMS_SCHEMA rows, as that run published them
    holdout: dict[str, dict[str, float]]

    def fit(self, model: str) -> btyd.FitResult | None:
        rows = self.params.filter(pl.col("model") == model)
        if rows.height == 0:
            return None
        given = btyd.FitResult.given(model, dict(zip(rows["parameter"], rows["value"], strict=True)))
        bound = tuple(rows.filter(pl.col("at_bound"))["parameter"])
        return dataclasses.replace(
            given, log_likelihood=float(rows["log_likelihood"][0]), n_customers=int(rows["n_customers"][0]),
            message=f"fitted as of {self.fitted_as_of}, reused", at_bound=bound,
        )  # fmt: skip

    def usable_on(self, as_of: date, config: CLVConfig) -> bool:
        """Young enough, and complete (a run whose Gamma-Gamma fit was unusable is not reused)."""
        models = set(self.params["model"])
        young = 0 <= (as_of - self.fitted_as_of).days < config.refit_every_days
        return young and {self.chosen_model, btyd.GAMMA_GAMMA} <= models


@dataclass(frozen=True)
class CLVApplication:
    """What every customer's prediction takes from the whole base: decided once, applied per customer.

    The purchase model and its parameters, the Gamma-Gamma parameters (or the rule used instead:
    each customer's own mean margin, with the repeat buyers' mean for one-time buyers; or no money
    columns at all), and whether P(alive) is evidence (`p_alive_basis`). The unpartitioned stage
    applies it to everyone at once; a partitioned run (defs/models.py) stores it as JSON and each
    bucket step applies it to its customers (`predict_clv`): the same numbers either way.
    """

    model: str
    params: dict[str, float]
    p_alive_basis: str
    margin_rule: str  # "gamma_gamma", "own_mean" (Gamma-Gamma unusable) or "none" (too few repeat buyers)
    gamma_gamma: dict[str, float] | None = None
    repeat_buyers_mean_margin: float | None = None  # own_mean: what a one-time buyer gets

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> CLVApplication:
        return cls(**json.loads(text))


@dataclass
class CLVResult:
    """Output of `compute_clv`.

    predictions: one row per customer with an order up to `as_of` (empty when refused).
    params: `marts.clv_model_params` rows for every converged fit: "bg_nbd_calibration",
      "pareto_nbd_calibration" (model choice), the chosen model's full-history refit under its
      plain name ("bg_nbd" or "pareto_nbd") and "gamma_gamma".
    holdout: per model, n_customers, predicted_total, actual_total, mae, rmse, log_likelihood.
    chosen_model: the model behind the predictions, None when refused.
    warnings: why something was refused or is doubtful; fits: every FitResult, converged or not.
    """

    predictions: pl.DataFrame
    params: pl.DataFrame
    holdout: dict[str, dict[str, float]]
    chosen_model: str | None
    warnings: list[str] = field(default_factory=list)
    fits: dict[str, btyd.FitResult] = field(default_factory=dict)
    reused_from: date | None = None  # the fits were those of this earlier analysis date (StoredFit)
    application: CLVApplication | None = None  # None when refused


# --------------------------------------------------------------------------------------------
# Purchase summaries
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Tiers
# --------------------------------------------------------------------------------------------


def clv_tiers(values: pl.Series | np.ndarray | list[float]) -> pl.Series:
    """Rank tier of each value: "top 1%", "1-5%", "5-10%", "10-25%", "25-50%", "bottom 50%".

    A value is in the top k% when at most k% of the (non-null) values are >= it, so ties are
    placed in the lower tier and a tiny population does not get a "top 1%" it cannot have.
    Nulls/NaN get a null tier. Values are compared rounded to the cent.
    """
    # Ranked to the cent: a CLV predicted in another batch of customers (DuckLake's customer buckets)
    # may differ in its last bit, and equal CLVs must stay equal (in one tier).
    s = pl.Series("clv_tier", values, dtype=pl.Float64).fill_nan(None).round(2)
    share = s.rank(method="max", descending=True) / s.count()
    expr = pl.when(share.is_null()).then(None)
    for cut, label in zip(_TIER_CUTS, TIERS, strict=False):
        expr = expr.when(share <= cut).then(pl.lit(label))
    return pl.select(expr.otherwise(pl.lit(TIERS[-1])).alias("clv_tier")).to_series()


# --------------------------------------------------------------------------------------------
# The stage
# --------------------------------------------------------------------------------------------


def _prediction_schema(config: CLVConfig) -> dict[str, pl.DataType]:
    return {
        "customer_id": pl.String,
        "p_alive": pl.Float64,
        "p_alive_basis": pl.String,
        f"expected_orders_{config.short_horizon_months}m": pl.Float64,
        f"expected_orders_{config.horizon_months}m": pl.Float64,
        "expected_order_value": pl.Float64,
        "expected_margin_per_order": pl.Float64,
        "margin_rate": pl.Float64,
        f"clv_{config.horizon_months}m": pl.Float64,
        "clv_tier": pl.String,
    }


# The model expects under this share of customers to have dropped out by now: it found no dropout,
# and its P(alive) says nothing about who is still active (days_overdue in the profile does).
NO_DROPOUT_SHARE = 0.01
P_ALIVE_BASES = {  # the values of p_alive_basis and what they mean
    "model": "P(alive) from the purchase model",
    "model_without_dropout": "the model found no dropout: P(alive) is ~1 by construction, not evidence of activity",
}


def compute_clv(
    order_days: pl.DataFrame,
    as_of: date,
    config: CLVConfig | None = None,
    *,
    fitted_at: datetime | None = None,
    value_column: str = "margin",
    stored: StoredFit | None = None,
    predict: bool = True,
) -> CLVResult:
    """Fit, choose and apply the CLV models on orders up to `as_of` (see the module docstring).

    `predict=False` fits and decides only (`application`, params, holdout, warnings) and leaves the
    predictions empty: a partitioned run then predicts each bucket with `predict_clv`.

    `order_days`: customer_id, order_date (Date), revenue and `value_column`; one row per counted
    order. The value column (margin by default; revenue when unit costs are unknown) is the money
    of clv_12m and expected_margin_per_order, and must be known for every order.
    `stored`: an earlier run's fits on the same value basis; used instead of fitting while
    `stored.usable_on(as_of, config)` (the same gates apply, and every customer is predicted).
    """
    config = config or CLVConfig()
    fitted_at = fitted_at or datetime.now(UTC).replace(tzinfo=None)
    unit = {7.0: "week", 1.0: "day"}.get(config.time_unit_days, f"{config.time_unit_days:g} days")
    warnings: list[str] = []
    fits: dict[str, btyd.FitResult] = {}
    holdout: dict[str, dict[str, float]] = {}

    def refuse(reason: str) -> CLVResult:
        warnings.append(f"CLV not computed: {reason}")
        empty = pl.DataFrame(schema=_prediction_schema(config))
        return CLVResult(empty, params_frame(fits, unit, fitted_at), holdout, None, warnings, fits)

    calibration_end = as_of - timedelta(days=config.holdout_days)
    agg = aggregate_purchases(order_days, calibration_end, as_of, value_column)
    if agg.height == 0:
        return refuse(f"no orders on or before {as_of}")
    history_days = (as_of - agg["first_date"].min()).days
    if history_days < config.min_history_days:
        return refuse(
            f"order history covers {history_days} days, fewer than min_history_days={config.min_history_days}"
        )

    # 1. Calibration fits and holdout comparison (on a seeded sample of customers when large).
    cal = purchase_summary(agg, calibration_end, "cal", config.time_unit_days, holdout=True)
    repeat_buyers = int((cal["x"] > 0).sum())
    if repeat_buyers < config.min_repeat_buyers:
        return refuse(
            f"{repeat_buyers} repeat buyers in the calibration period (to {calibration_end}), "
            f"fewer than min_repeat_buyers={config.min_repeat_buyers}"
        )
    if stored is not None and stored.usable_on(as_of, config):
        fits.update({stored.chosen_model: stored.fit(stored.chosen_model)})
        fits[btyd.GAMMA_GAMMA] = stored.fit(btyd.GAMMA_GAMMA)
        final = fits[stored.chosen_model]
        full = purchase_summary(agg, as_of, "all", config.time_unit_days)
        result = _predict(agg, full, final, config, fits, warnings, predict)
        return dataclasses.replace(
            result, params=stored.params, holdout=stored.holdout, reused_from=stored.fitted_as_of
        )
    if config.selection_sample and cal.height > config.selection_sample:
        cal = cal.sample(config.selection_sample, seed=0)
    cal_data = rfm_data(cal)
    actual = cal["x_holdout"].to_numpy().astype(np.float64)
    t_holdout = config.holdout_days / config.time_unit_days
    for model in (btyd.BG_NBD, btyd.PARETO_NBD):
        bg = fits.get(f"{btyd.BG_NBD}_calibration")
        start = btyd.pareto_start_from_bgnbd(bg.params) if model == btyd.PARETO_NBD and bg.converged else None
        fit = fit_model(model, cal_data, start)
        fits[f"{model}_calibration"] = fit
        if not fit.converged:
            warnings.append(f"{model} calibration fit rejected: {fit.message}")
            continue
        predicted = btyd.expected_purchases(fit, t_holdout, cal_data)
        holdout[model] = holdout_metrics(predicted, actual) | {"log_likelihood": fit.log_likelihood}
    ranked = sorted(holdout, key=lambda m: holdout[m]["mae"])
    if not ranked:
        return refuse("no purchase model converged on the calibration period")

    # 2. Refit the best model on the full history (warm-started from its calibration fit);
    #    fall back to the runner-up if that refit fails.
    full = purchase_summary(agg, as_of, "all", config.time_unit_days)  # same rows and order as `agg`
    full_data = rfm_data(full)
    final = None
    for model in ranked:
        fit = fit_model(model, full_data, start=fits[f"{model}_calibration"].params)
        fits[model] = fit
        if fit.converged:
            final = fit
            break
        warnings.append(f"{model} refit on the full history rejected: {fit.message}")
    if final is None:
        return refuse("no purchase model converged on the full history")
    result = _predict(agg, full, final, config, fits, warnings, predict)
    return dataclasses.replace(result, params=params_frame(fits, unit, fitted_at), holdout=holdout)


def _predict(
    agg: pl.DataFrame,
    full: pl.DataFrame,
    final: btyd.FitResult,
    config: CLVConfig,
    fits: dict[str, btyd.FitResult],
    warnings: list[str],
    predict: bool = True,
) -> CLVResult:
    """Steps 3-4 for every customer of `agg` with the purchase model `final` (and the Gamma-Gamma
    fit in `fits`, fitted here when absent); params and holdout are the caller's to fill in."""
    application = _application(full, final, config, fits, warnings)
    predictions = (
        with_tiers(_apply(agg, full, application, config), config)
        if predict
        else pl.DataFrame(schema=_prediction_schema(config))
    )
    return CLVResult(
        predictions,
        pl.DataFrame(schema=PARAMS_SCHEMA),
        {},
        final.model,
        warnings,
        fits,
        application=application,
    )


def predict_clv(
    order_days: pl.DataFrame,
    as_of: date,
    application: CLVApplication,
    config: CLVConfig | None = None,
    value_column: str = "margin",
) -> pl.DataFrame:
    """The predictions of the customers in `order_days` (as `compute_clv`'s input) with a decided
    `application`; clv_tier is left null: a tier is a rank over every customer (`with_tiers`)."""
    config = config or CLVConfig()
    calibration_end = as_of - timedelta(days=config.holdout_days)
    agg = aggregate_purchases(order_days, calibration_end, as_of, value_column)
    if agg.height == 0:
        return pl.DataFrame(schema=_prediction_schema(config))
    return _apply(agg, purchase_summary(agg, as_of, "all", config.time_unit_days), application, config)


def with_tiers(predictions: pl.DataFrame, config: CLVConfig) -> pl.DataFrame:
    """The predictions with clv_tier ranked over all of them (null where the CLV is)."""
    return predictions.with_columns(clv_tiers(predictions[f"clv_{config.horizon_months}m"]))


def _application(
    full: pl.DataFrame,
    final: btyd.FitResult,
    config: CLVConfig,
    fits: dict[str, btyd.FitResult],
    warnings: list[str],
) -> CLVApplication:
    """What the whole base decides: P(alive)'s basis and the margin per purchase rule (with the
    Gamma-Gamma fit, made here unless stored), with their warnings."""
    dropout = btyd.expected_dropout_share(final, rfm_data(full))
    p_alive_basis = "model_without_dropout" if dropout < NO_DROPOUT_SHARE else "model"
    if p_alive_basis == "model_without_dropout":
        warnings.append(
            f"{final.model} found no dropout ({dropout:.2%} of customers expected to have left"
            + (f"; {', '.join(final.at_bound)} on the optimisation bound" if final.at_bound else "")
            + "): P(alive) is ~1 by construction, not evidence of activity; read days_overdue instead"
        )
    decided = CLVApplication(final.model, dict(final.params), p_alive_basis, "none")
    x = full["x"].to_numpy().astype(np.float64)
    m = full["mean_repeat_margin"].to_numpy().astype(np.float64)  # NaN where x = 0
    positive = (x > 0) & (m > 0)
    if positive.sum() < config.min_repeat_buyers:
        warnings.append(
            f"Gamma-Gamma not fitted: {int(positive.sum())} repeat buyers with a positive mean margin, "
            f"fewer than min_repeat_buyers={config.min_repeat_buyers}; CLV money columns left null"
        )
        return decided
    fit = fits.get(btyd.GAMMA_GAMMA) or btyd.fit_gamma_gamma(x[positive], m[positive])  # stored, or fit now
    fits[btyd.GAMMA_GAMMA] = fit
    if not fit.converged or fit.params["q"] <= 1.0:
        # Spend too heavy-tailed for the model (q <= 1 means an infinite population mean). The
        # customers' own averages are still an honest, if unshrunk, estimate: use them and say so.
        reason = fit.message if not fit.converged else f"q = {fit.params['q']:.3g} <= 1 (infinite mean)"
        warnings.append(
            f"Gamma-Gamma fit rejected: {reason}; expected margin per purchase = the customer's own mean repeat "
            "margin (one-time buyers: the mean over repeat buyers), without shrinkage"
        )
        return dataclasses.replace(
            decided, margin_rule="own_mean", repeat_buyers_mean_margin=float(m[positive].mean())
        )
    # Gamma-Gamma assumes spend is independent of purchase frequency: flag a clear violation.
    with np.errstate(all="ignore"):
        corr = float(np.corrcoef(x[positive], m[positive])[0, 1]) if positive.sum() > 2 else 0.0
    if abs(corr) > 0.3:
        warnings.append(f"Gamma-Gamma assumption doubtful: corr(frequency, mean margin) = {corr:.2f}")
    return dataclasses.replace(decided, margin_rule="gamma_gamma", gamma_gamma=dict(fit.params))


def _apply(
    agg: pl.DataFrame, full: pl.DataFrame, application: CLVApplication, config: CLVConfig
) -> pl.DataFrame:
    """Each customer's predictions from their own purchases and the decided `application`
    (clv_tier null: `with_tiers`)."""
    final = btyd.FitResult.given(application.model, application.params)
    full_data = rfm_data(full)
    # 3. Purchases: P(alive) and cumulative expected purchases at the end of each month.
    months = np.arange(1, config.horizon_months + 1)
    alive, cumulative = btyd.predict_purchases(
        final, months * DAYS_PER_MONTH / config.time_unit_days, full_data
    )
    # 4. Margin per purchase (Gamma-Gamma), CLV discounted monthly, revenue per purchase.
    expected_margin = _expected_margin(full, application)
    per_month = np.diff(cumulative, axis=0, prepend=0.0)
    discount = (1.0 + config.annual_discount_rate) ** (-months / 12.0)
    clv = None if expected_margin is None else (discount @ per_month) * expected_margin
    return (
        agg.select(
            "customer_id",
            margin_rate=pl.when(pl.col("revenue_all") > 0).then(pl.col("margin_all") / pl.col("revenue_all")),
            mean_revenue=pl.col("revenue_all") / pl.col("n_all"),
        )
        .with_columns(
            pl.Series("p_alive", alive),
            pl.lit(application.p_alive_basis).alias("p_alive_basis"),
            pl.Series(
                f"expected_orders_{config.short_horizon_months}m", cumulative[config.short_horizon_months - 1]
            ),
            pl.Series(f"expected_orders_{config.horizon_months}m", cumulative[-1]),
            _column("expected_margin_per_order", expected_margin),
            _column(f"clv_{config.horizon_months}m", clv),
            pl.lit(None, dtype=pl.String).alias("clv_tier"),
        )
        .with_columns(
            # Revenue per purchase = margin per purchase / margin rate; the observed mean revenue
            # per purchase day when the rate is not positive (no meaningful ratio then).
            expected_order_value=pl.when(pl.col("expected_margin_per_order").is_null())
            .then(None)
            .when(pl.col("margin_rate") > 0)
            .then(pl.col("expected_margin_per_order") / pl.col("margin_rate"))
            .otherwise(pl.col("mean_revenue")),
        )
        .select(list(_prediction_schema(config)))
    )


def _column(name: str, values: np.ndarray | None) -> pl.Series | pl.Expr:
    """A float column, or nulls when the model behind it was refused."""
    return pl.lit(None, dtype=pl.Float64).alias(name) if values is None else pl.Series(name, values)


def _expected_margin(full: pl.DataFrame, application: CLVApplication) -> np.ndarray | None:
    """Expected margin per purchase day per customer under the decided rule (None: no money columns)."""
    x = full["x"].to_numpy().astype(np.float64)
    m = full["mean_repeat_margin"].to_numpy().astype(np.float64)  # NaN where x = 0
    if application.margin_rule == "none":
        return None
    if application.margin_rule == "own_mean":
        return np.where(x > 0, m, application.repeat_buyers_mean_margin)
    positive = (x > 0) & (m > 0)
    fit = btyd.FitResult.given(btyd.GAMMA_GAMMA, application.gamma_gamma or {})
    expected = btyd.gamma_gamma_expected_value(fit, np.where(positive, x, 0.0), np.where(positive, m, 0.0))
    # Repeat buyers with a mean margin <= 0 keep their observed mean (see module docstring).
    return np.where((x > 0) & ~positive, m, expected)
