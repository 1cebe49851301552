-- The run whose CLV fits are published in marts.clv_model_params: later runs reuse those fits
-- until they are CLVConfig.refit_every_days old (one row, replaced by each run that fits).
CREATE TABLE IF NOT EXISTS models.clv_fit_state (
    fitted_as_of   DATE NOT NULL,     -- analysis date of the run that fitted
    chosen_model   VARCHAR NOT NULL,  -- bg_nbd or pareto_nbd
    value_basis    VARCHAR NOT NULL,  -- margin or revenue: a fit is reused only on the same basis
    holdout_days   INTEGER NOT NULL,  -- SEGMENTATION_HOLDOUT_DAYS of the fit: another one refits
    holdout_json   VARCHAR NOT NULL,  -- the model comparison of that fit (asset metadata)
    recorded_at    TIMESTAMP NOT NULL
);
