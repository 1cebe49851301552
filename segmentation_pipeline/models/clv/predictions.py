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
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl

from segmentation_pipeline.models.btyd import estimation as btyd

DAYS_PER_MONTH = 365.25 / 12
TIERS = ("top 1%", "1-5%", "5-10%", "10-25%", "25-50%", "bottom 50%")
_TIER_CUTS = (0.01, 0.05, 0.10, 0.25, 0.50)
_EPOCH = date(1970, 1, 1)


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


# --------------------------------------------------------------------------------------------
# Purchase summaries
# --------------------------------------------------------------------------------------------


def aggregate_purchases(
    order_days: pl.DataFrame, calibration_end: date, end: date, value_column: str = "margin"
) -> pl.DataFrame:
    """Per-customer purchase-day aggregates of orders up to `end`, split at `calibration_end`.

    `value_column` is the money the CLV is in (margin, or revenue when costs are unknown); it is
    called margin below.

    Columns: customer_id, first_date, last_cal/last_all, n_cal/n_all (purchase days),
    revenue_/margin_ cal/all (sums), first_revenue/first_margin (of the first purchase day).

    Done in NumPy on one int64 key (customer code * span + day): at 10M orders a Polars group_by
    on (customer_id, order_date) has nearly as many groups as rows and takes seconds, while
    sorting one integer key takes ~0.1 s and everything else is a bincount.
    """
    columns = ("customer_id", "order_date", "revenue", value_column)
    missing = set(columns) - set(order_days.columns)
    if missing:
        raise ValueError(f"order_days lacks column(s): {', '.join(sorted(missing))}")
    frame = order_days.select(*columns[:3], pl.col(value_column).alias("margin"))
    nulls = {c: n for c, n in zip(frame.columns, frame.null_count().row(0), strict=True) if n}
    if nulls:
        # The caller picks a value basis that is known for every counted order (features/value_basis.py).
        raise ValueError(
            f"order_days has nulls ({nulls}); the value column {value_column!r} must be known for every counted "
            "order: use revenue as the value basis when unit costs are missing"
        )
    day = frame["order_date"].cast(pl.Date).to_physical().to_numpy().astype(np.int64)
    keep = day <= (end - _EPOCH).days
    empty = {
        "customer_id": pl.String, "first_date": pl.Date, "last_cal": pl.Date, "last_all": pl.Date,
        "n_cal": pl.Int64, "n_all": pl.Int64, "revenue_cal": pl.Float64, "margin_cal": pl.Float64,
        "revenue_all": pl.Float64, "margin_all": pl.Float64, "first_revenue": pl.Float64,
        "first_margin": pl.Float64,
    }  # fmt: skip
    if not keep.any():
        return pl.DataFrame(schema=empty)
    code_all = _sorted_codes(frame["customer_id"])
    n = int(code_all.max()) + 1
    revenue = frame["revenue"].to_numpy().astype(np.float64)
    margin = frame["margin"].to_numpy().astype(np.float64)
    code = code_all
    if not keep.all():  # orders after `end` are ignored
        code, day, revenue, margin = code[keep], day[keep], revenue[keep], margin[keep]
    cal = (calibration_end - _EPOCH).days

    # Distinct (customer, day) pairs, sorted by customer then day.
    d0 = int(day.min())
    span = int(day.max()) - d0 + 1
    key = np.sort(code * span + (day - d0))
    key = key[np.r_[True, key[1:] != key[:-1]]]
    ucode = key // span
    uday = key - ucode * span + d0
    n_all = np.bincount(ucode, minlength=n)
    n_cal = np.bincount(ucode[uday <= cal], minlength=n)
    ends = np.cumsum(n_all)
    starts = ends - n_all
    present = np.flatnonzero(n_all)  # customers with an order up to `end`
    first = np.full(n, -1, dtype=np.int64)
    first[present] = uday[starts[present]]
    # Calibration days are a prefix of each customer's sorted days.
    last_cal = uday[np.maximum(starts + n_cal - 1, 0)]

    def sums(values: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        weights = values if rows is None else values * rows  # masking by multiplication: no gather
        return np.bincount(code, weights=weights, minlength=n)[present]

    in_cal = day <= cal
    on_first = day == first[code]
    position = np.empty(n, dtype=np.int64)
    position[code_all] = np.arange(len(code_all))  # any row of each customer, for its id

    def dates(values: np.ndarray) -> pl.Series:
        return pl.Series(values.astype(np.int32)).cast(pl.Date)

    return pl.DataFrame(
        {
            "customer_id": frame["customer_id"].gather(position[present]),
            "first_date": dates(first[present]),
            "last_cal": dates(last_cal[present]),
            "last_all": dates(uday[ends[present] - 1]),
            "n_cal": n_cal[present],
            "n_all": n_all[present],
            "revenue_cal": sums(revenue, in_cal),
            "margin_cal": sums(margin, in_cal),
            "revenue_all": sums(revenue),
            "margin_all": sums(margin),
            "first_revenue": sums(revenue, on_first),
            "first_margin": sums(margin, on_first),
        },
        schema=empty,
    ).with_columns(last_cal=pl.when(pl.col("n_cal") > 0).then(pl.col("last_cal")))


def _sorted_codes(ids: pl.Series) -> np.ndarray:
    """0-based code of each id in the sorted distinct ids (a dense rank).

    rank("dense") sorts every row: 3-6 s for 5M string ids on two cores. Sorting the distinct ids
    and casting to an Enum with them as categories (a hash lookup per row) gives the same codes
    in ~0.7 s.
    """
    if ids.dtype == pl.String:
        return ids.cast(pl.Enum(ids.unique().sort())).to_physical().to_numpy().astype(np.int64)
    return ids.rank("dense").to_numpy().astype(np.int64) - 1


def purchase_summary(
    agg: pl.DataFrame, end: date, suffix: str, time_unit_days: float, holdout: bool = False
) -> pl.DataFrame:
    """Per-customer (x, t_x, T) summary for the BTYD models as of `end`, from `aggregate_purchases`.

    suffix "cal" summarises the calibration period, "all" the whole history: one row per customer
    with a purchase in it, customer_id, x (repeat purchase days), t_x (last - first purchase),
    T (end - first purchase), both in `time_unit_days` units, mean_repeat_margin and
    mean_repeat_revenue (over repeat purchase days, null when x = 0) and, with `holdout`,
    x_holdout = purchase days after the calibration period.
    """
    n = pl.col(f"n_{suffix}")

    def units(later: pl.Expr, earlier: pl.Expr) -> pl.Expr:
        return (later - earlier).dt.total_days().cast(pl.Float64) / time_unit_days

    def repeat_mean(total: str, first: str) -> pl.Expr:
        return pl.when(n > 1).then((pl.col(total) - pl.col(first)) / (n - 1))

    columns = {
        "x": (n - 1).cast(pl.Int64),
        "t_x": units(pl.col(f"last_{suffix}"), pl.col("first_date")),
        "T": units(pl.lit(end), pl.col("first_date")),
        "mean_repeat_margin": repeat_mean(f"margin_{suffix}", "first_margin"),
        "mean_repeat_revenue": repeat_mean(f"revenue_{suffix}", "first_revenue"),
    }
    if holdout:
        columns["x_holdout"] = (pl.col("n_all") - n).cast(pl.Int64)
    return agg.filter(n > 0).select("customer_id", **columns)


# --------------------------------------------------------------------------------------------
# Tiers
# --------------------------------------------------------------------------------------------


def clv_tiers(values: pl.Series | np.ndarray | list[float]) -> pl.Series:
    """Rank tier of each value: "top 1%", "1-5%", "5-10%", "10-25%", "25-50%", "bottom 50%".

    A value is in the top k% when at most k% of the (non-null) values are >= it, so ties are
    placed in the lower tier and a tiny population does not get a "top 1%" it cannot have.
    Nulls/NaN get a null tier.
    """
    s = pl.Series("clv_tier", values, dtype=pl.Float64).fill_nan(None)
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


PARAMS_SCHEMA = {
    "model": pl.String,
    "parameter": pl.String,
    "value": pl.Float64,
    "time_unit": pl.String,
    "log_likelihood": pl.Float64,
    "n_customers": pl.Int64,
    "fitted_at": pl.Datetime("us"),
    "at_bound": pl.Boolean,
}

# The model expects under this share of customers to have dropped out by now: it found no dropout,
# and its P(alive) says nothing about who is still active (days_overdue in the profile does).
NO_DROPOUT_SHARE = 0.01
P_ALIVE_BASES = {  # the values of p_alive_basis and what they mean
    "model": "P(alive) from the purchase model",
    "model_without_dropout": "the model found no dropout: P(alive) is ~1 by construction, not evidence of activity",
}


def _params_frame(fits: dict[str, btyd.FitResult], time_unit: str, fitted_at: datetime) -> pl.DataFrame:
    """One row per parameter of each converged fit (the others are reported as warnings)."""
    rows = [
        {
            "model": name,
            "parameter": parameter,
            "value": value,
            # Gamma-Gamma parameters are money, not time, but the column is kept uniform.
            "time_unit": time_unit,
            "log_likelihood": fit.log_likelihood,
            "n_customers": fit.n_customers,
            "fitted_at": fitted_at,
            "at_bound": parameter in fit.at_bound,
        }
        for name, fit in fits.items()
        if fit.converged
        for parameter, value in fit.params.items()
    ]
    return pl.DataFrame(rows, schema=PARAMS_SCHEMA)


def _holdout_metrics(predicted: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    err = predicted - actual
    return {
        "n_customers": float(len(actual)),
        "predicted_total": float(predicted.sum()),
        "actual_total": float(actual.sum()),
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(np.sqrt(np.mean(err**2))),
    }


def _fit(model: str, data: btyd.RfmData, start: dict[str, float] | None = None) -> btyd.FitResult:
    fitter = btyd.fit_bgnbd if model == btyd.BG_NBD else btyd.fit_pareto_nbd
    return fitter(data, start=start)


def _rfm_data(summary: pl.DataFrame) -> btyd.RfmData:
    return btyd.RfmData.build(*(summary[c].to_numpy().astype(np.float64) for c in ("x", "t_x", "T")))


def compute_clv(
    order_days: pl.DataFrame,
    as_of: date,
    config: CLVConfig | None = None,
    *,
    fitted_at: datetime | None = None,
    value_column: str = "margin",
    stored: StoredFit | None = None,
) -> CLVResult:
    """Fit, choose and apply the CLV models on orders up to `as_of` (see the module docstring).

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
        return CLVResult(empty, _params_frame(fits, unit, fitted_at), holdout, None, warnings, fits)

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
        result = _predict(agg, full, final, config, fits, warnings)
        return dataclasses.replace(
            result, params=stored.params, holdout=stored.holdout, reused_from=stored.fitted_as_of
        )
    if config.selection_sample and cal.height > config.selection_sample:
        cal = cal.sample(config.selection_sample, seed=0)
    cal_data = _rfm_data(cal)
    actual = cal["x_holdout"].to_numpy().astype(np.float64)
    t_holdout = config.holdout_days / config.time_unit_days
    for model in (btyd.BG_NBD, btyd.PARETO_NBD):
        bg = fits.get(f"{btyd.BG_NBD}_calibration")
        start = btyd.pareto_start_from_bgnbd(bg.params) if model == btyd.PARETO_NBD and bg.converged else None
        fit = _fit(model, cal_data, start)
        fits[f"{model}_calibration"] = fit
        if not fit.converged:
            warnings.append(f"{model} calibration fit rejected: {fit.message}")
            continue
        predicted = btyd.expected_purchases(fit, t_holdout, cal_data)
        holdout[model] = _holdout_metrics(predicted, actual) | {"log_likelihood": fit.log_likelihood}
    ranked = sorted(holdout, key=lambda m: holdout[m]["mae"])
    if not ranked:
        return refuse("no purchase model converged on the calibration period")

    # 2. Refit the best model on the full history (warm-started from its calibration fit);
    #    fall back to the runner-up if that refit fails.
    full = purchase_summary(agg, as_of, "all", config.time_unit_days)  # same rows and order as `agg`
    full_data = _rfm_data(full)
    final = None
    for model in ranked:
        fit = _fit(model, full_data, start=fits[f"{model}_calibration"].params)
        fits[model] = fit
        if fit.converged:
            final = fit
            break
        warnings.append(f"{model} refit on the full history rejected: {fit.message}")
    if final is None:
        return refuse("no purchase model converged on the full history")
    result = _predict(agg, full, final, config, fits, warnings)
    return dataclasses.replace(result, params=_params_frame(fits, unit, fitted_at), holdout=holdout)


def _predict(
    agg: pl.DataFrame,
    full: pl.DataFrame,
    final: btyd.FitResult,
    config: CLVConfig,
    fits: dict[str, btyd.FitResult],
    warnings: list[str],
) -> CLVResult:
    """Steps 3-4 for every customer of `agg` with the purchase model `final` (and the Gamma-Gamma
    fit in `fits`, fitted here when absent); params and holdout are the caller's to fill in."""
    full_data = _rfm_data(full)
    # 3. Purchases: P(alive) and cumulative expected purchases at the end of each month.
    months = np.arange(1, config.horizon_months + 1)
    alive, cumulative = btyd.predict_purchases(
        final, months * DAYS_PER_MONTH / config.time_unit_days, full_data
    )

    dropout = btyd.expected_dropout_share(final, full_data)
    p_alive_basis = "model_without_dropout" if dropout < NO_DROPOUT_SHARE else "model"
    if p_alive_basis == "model_without_dropout":
        warnings.append(
            f"{final.model} found no dropout ({dropout:.2%} of customers expected to have left"
            + (f"; {', '.join(final.at_bound)} on the optimisation bound" if final.at_bound else "")
            + "): P(alive) is ~1 by construction, not evidence of activity; read days_overdue instead"
        )

    # 4. Margin per purchase (Gamma-Gamma), CLV discounted monthly, revenue per purchase.
    expected_margin = _expected_margin(full, config, fits, warnings)
    per_month = np.diff(cumulative, axis=0, prepend=0.0)
    discount = (1.0 + config.annual_discount_rate) ** (-months / 12.0)
    clv = None if expected_margin is None else (discount @ per_month) * expected_margin
    predictions = (
        agg.select(
            "customer_id",
            margin_rate=pl.when(pl.col("revenue_all") > 0).then(pl.col("margin_all") / pl.col("revenue_all")),
            mean_revenue=pl.col("revenue_all") / pl.col("n_all"),
        )
        .with_columns(
            pl.Series("p_alive", alive),
            pl.lit(p_alive_basis).alias("p_alive_basis"),
            pl.Series(
                f"expected_orders_{config.short_horizon_months}m", cumulative[config.short_horizon_months - 1]
            ),
            pl.Series(f"expected_orders_{config.horizon_months}m", cumulative[-1]),
            _column("expected_margin_per_order", expected_margin),
            _column(f"clv_{config.horizon_months}m", clv),
            clv_tiers(clv) if clv is not None else pl.lit(None, dtype=pl.String).alias("clv_tier"),
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
    return CLVResult(predictions, pl.DataFrame(schema=PARAMS_SCHEMA), {}, final.model, warnings, fits)


def _column(name: str, values: np.ndarray | None) -> pl.Series | pl.Expr:
    """A float column, or nulls when the model behind it was refused."""
    return pl.lit(None, dtype=pl.Float64).alias(name) if values is None else pl.Series(name, values)


def _expected_margin(
    full: pl.DataFrame, config: CLVConfig, fits: dict[str, btyd.FitResult], warnings: list[str]
) -> np.ndarray | None:
    """Expected margin per purchase day per customer, or None when Gamma-Gamma is unusable."""
    x = full["x"].to_numpy().astype(np.float64)
    m = full["mean_repeat_margin"].to_numpy().astype(np.float64)  # NaN where x = 0
    positive = (x > 0) & (m > 0)
    if positive.sum() < config.min_repeat_buyers:
        warnings.append(
            f"Gamma-Gamma not fitted: {int(positive.sum())} repeat buyers with a positive mean margin, "
            f"fewer than min_repeat_buyers={config.min_repeat_buyers}; CLV money columns left null"
        )
        return None
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
        return np.where(x > 0, m, float(m[positive].mean()))
    # Gamma-Gamma assumes spend is independent of purchase frequency: flag a clear violation.
    with np.errstate(all="ignore"):
        corr = float(np.corrcoef(x[positive], m[positive])[0, 1]) if positive.sum() > 2 else 0.0
    if abs(corr) > 0.3:
        warnings.append(f"Gamma-Gamma assumption doubtful: corr(frequency, mean margin) = {corr:.2f}")
    expected = btyd.gamma_gamma_expected_value(fit, np.where(positive, x, 0.0), np.where(positive, m, 0.0))
    # Repeat buyers with a mean margin <= 0 keep their observed mean (see module docstring).
    return np.where((x > 0) & ~positive, m, expected)
