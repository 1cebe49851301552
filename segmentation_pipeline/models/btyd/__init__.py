"""Buy-till-you-die models: BG/NBD, Pareto/NBD and Gamma-Gamma (fitting: estimation.py; the
likelihoods: likelihood.py; predictions: prediction.py; names, results and data: data.py)."""

from segmentation_pipeline.models.btyd.data import (
    BG_NBD,
    DROPOUT_PARAMS,
    GAMMA_GAMMA,
    PARAM_NAMES,
    PARETO_NBD,
    FitError,
    FitResult,
    RfmData,
    unique_rows,
)
from segmentation_pipeline.models.btyd.estimation import (
    fit_bgnbd,
    fit_gamma_gamma,
    fit_pareto_nbd,
    pareto_start_from_bgnbd,
)
from segmentation_pipeline.models.btyd.likelihood import log_likelihood
from segmentation_pipeline.models.btyd.prediction import (
    expected_dropout_share,
    expected_purchases,
    gamma_gamma_expected_value,
    p_alive,
    predict_purchases,
)

__all__ = [
    "BG_NBD", "DROPOUT_PARAMS", "GAMMA_GAMMA", "PARAM_NAMES", "PARETO_NBD", "FitError", "FitResult", "RfmData",
    "expected_dropout_share", "expected_purchases", "fit_bgnbd", "fit_gamma_gamma", "fit_pareto_nbd",
    "gamma_gamma_expected_value", "log_likelihood", "p_alive", "pareto_start_from_bgnbd", "predict_purchases",
    "unique_rows",
]  # fmt: skip
