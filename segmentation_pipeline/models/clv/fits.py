"""Fitting the CLV models and publishing their parameters: one fit per model, the holdout metrics
that choose between BG/NBD and Pareto/NBD, and the rows of marts.clv_model_params."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

from segmentation_pipeline.models import btyd

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


def params_frame(fits: dict[str, btyd.FitResult], time_unit: str, fitted_at: datetime) -> pl.DataFrame:
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


def holdout_metrics(predicted: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    err = predicted - actual
    return {
        "n_customers": float(len(actual)),
        "predicted_total": float(predicted.sum()),
        "actual_total": float(actual.sum()),
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(np.sqrt(np.mean(err**2))),
    }


def fit_model(model: str, data: btyd.RfmData, start: dict[str, float] | None = None) -> btyd.FitResult:
    fitter = btyd.fit_bgnbd if model == btyd.BG_NBD else btyd.fit_pareto_nbd
    return fitter(data, start=start)


def rfm_data(summary: pl.DataFrame) -> btyd.RfmData:
    return btyd.RfmData.build(*(summary[c].to_numpy().astype(np.float64) for c in ("x", "t_x", "T")))
