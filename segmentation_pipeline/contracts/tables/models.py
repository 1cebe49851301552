"""Contracts of the model layer: RFM scores, classes, CLV, segments, and the models' kept state."""

from __future__ import annotations

from .base import CUSTOMER_ID, Column, TableContract

RFM_SCORES = TableContract(
    "models.rfm_scores",
    "RFM scores and segments.",
    (
        CUSTOMER_ID,
        Column(
            "r_score",
            "TINYINT",
            "Recency score 1-5 (5 = most recent), quintile of an ordinal rank; NULL for prospects.",
            nullable=True,
        ),
        Column(
            "f_score",
            "TINYINT",
            "Frequency score 1-5 (5 = most orders), ties broken by value then recency; NULL for prospects.",
            nullable=True,
        ),
        Column(
            "m_score",
            "TINYINT",
            "Monetary score 1-5 on the run's value basis (margin where every cost is known, else revenue); NULL for prospects.",
            nullable=True,
        ),
        Column(
            "rfm_segment",
            "VARCHAR",
            "Named RFM segment (Champions ... Lost), or Prospect for customers without a counted order.",
        ),
    ),
)


CUSTOMER_CLASSES = TableContract(
    "models.customer_classes",
    "Customer classes.",
    (
        CUSTOMER_ID,
        Column("lifecycle_stage", "VARCHAR", "prospect, new, regular, loyal or lapsed."),
        Column(
            "risk_class",
            "VARCHAR",
            "high, low or unknown (no payment-lateness data for the customer), from payment history.",
        ),
        Column("volume_class", "VARCHAR", "high (top 20% of buyers by revenue) or low."),
        Column(
            "loyalty_class",
            "VARCHAR",
            "high (repeat buyer, long enough tenure, not an NPS detractor) or low.",
        ),
    ),
)


CLV_PREDICTIONS = TableContract(
    "models.clv_predictions",
    "CLV predictions per customer.",
    (
        CUSTOMER_ID,
        Column(
            "p_alive",
            "DOUBLE",
            "Probability the customer is still active (chosen model: BG/NBD or Pareto/NBD); see p_alive_basis.",
        ),
        Column(
            "p_alive_basis",
            "VARCHAR",
            "model, or model_without_dropout when the model expects under 1% of customers to have left (P(alive) ~1 by construction, not evidence of activity).",
        ),
        Column("expected_orders_3m", "DOUBLE", "Expected purchase days in the next 3 months."),
        Column("expected_orders_12m", "DOUBLE", "Expected purchase days in the next 12 months."),
        Column(
            "expected_order_value",
            "DOUBLE",
            "Expected revenue per future purchase (Gamma-Gamma on the value / value rate).",
        ),
        Column(
            "expected_margin_per_order",
            "DOUBLE",
            "Expected value per future purchase (Gamma-Gamma), in the run's value basis (value_basis).",
        ),
        Column(
            "margin_rate",
            "DOUBLE",
            "The customer's value / revenue up to the analysis date (1 on the revenue basis).",
            nullable=True,
        ),
        Column(
            "clv_12m",
            "DOUBLE",
            "Expected value (margin, or revenue when costs are unknown: value_basis) over the next 12 months, discounted monthly at the annual discount rate.",
        ),
        Column(
            "clv_tier", "VARCHAR", "Rank tier of clv_12m: top 1%, 1-5%, 5-10%, 10-25%, 25-50%, bottom 50%."
        ),
    ),
)


CUSTOMER_SEGMENTS = TableContract(
    "models.customer_segments",
    "Behavioural segment per customer.",
    (
        CUSTOMER_ID,
        Column(
            "segment_id",
            "BIGINT",
            "Behavioural segment (stable across runs; 0 = prospects without a counted order).",
        ),
        Column("as_of_date", "DATE", "Analysis date of the assignment."),
    ),
)


# The run whose CLV fits are published in marts.clv_model_params: later runs reuse those fits
# until they are CLVConfig.refit_every_days old (one row, replaced by each run that fits).
CLV_FIT_STATE = TableContract(
    "models.clv_fit_state",
    "The run whose CLV fits are published (one row, replaced by each run that fits).",
    (
        Column("fitted_as_of", "DATE", "Analysis date of the run that fitted."),
        Column("chosen_model", "VARCHAR", "bg_nbd or pareto_nbd."),
        Column("value_basis", "VARCHAR", "margin or revenue: a fit is reused only on the same basis."),
        Column("holdout_days", "INTEGER", "SEGMENTATION_HOLDOUT_DAYS of the fit: another one refits."),
        Column("holdout_json", "VARCHAR", "The model comparison of that fit (asset metadata)."),
        Column("recorded_at", "TIMESTAMP", "When the fit was recorded (UTC)."),
    ),
)


# DuckLake mode with partitions: what the CLV fit step decided, for its bucket steps (one row per
# run, replaced by the next; defs/models.py). Nothing reads it once the run's commit step is done.
CLV_RUN_PLAN = TableContract(
    "models.clv_run_plan",
    "The CLV fits and rules of the run in progress, for the steps that predict each customer bucket.",
    (
        Column("as_of_date", "DATE", "Analysis date of the run."),
        Column("value_basis", "VARCHAR", "margin or revenue."),
        Column("plan_json", "VARCHAR", "The model, its parameters, the margin rule and the run's warnings."),
        Column("recorded_at", "TIMESTAMP", "When the plan was recorded (UTC)."),
    ),
)

# The segment model's state, kept across runs (created once; each run replaces only its own date).
SEGMENT_MODEL_STATE = TableContract(
    "models.segment_model_state",
    "The segment model per run: refit or reuse, and why (each run replaces only its own date).",
    (
        Column("as_of_date", "DATE", "Analysis date of the run."),
        Column(
            "fitted_at",
            "VARCHAR",
            "ISO date of the run that fitted the model in use (the analysis date, not the wall clock).",
            nullable=True,
        ),
        Column("refitted", "BOOLEAN", "The run fitted the model again.", nullable=True),
        Column("reason", "VARCHAR", "Why it refitted or reused the model.", nullable=True),
        Column("k", "INTEGER", "Number of behavioural segments.", nullable=True),
        Column(
            "ari_vs_previous", "DOUBLE", "Adjusted Rand index against the previous assignment.", nullable=True
        ),
        Column(
            "drift",
            "DOUBLE",
            "Relative increase of the mean distance to the assigned centroid since the fit.",
            nullable=True,
        ),
        Column(
            "share_shift",
            "DOUBLE",
            "Total variation distance of the segment shares since the fit.",
            nullable=True,
        ),
        Column("model_json", "VARCHAR", "The model (centroids, scaling, ids) as JSON."),
        Column("recorded_at", "TIMESTAMP", "When the row was written (UTC).", nullable=True),
    ),
)

# DuckLake mode with partitions: the segment model the prepare step chose for its bucket steps (the
# previous model to reuse, or a refit's candidate with provisional ids), and why it refits (one row
# per run, replaced by the next; defs/segment_buckets.py).
SEGMENT_RUN_PLAN = TableContract(
    "models.segment_run_plan",
    "The segment model the run in progress assigns its customer buckets with, and why it refits.",
    (
        Column("as_of_date", "DATE", "Analysis date of the run."),
        Column("plan_json", "VARCHAR", "The model (JSON) and the refit reason (null: reuse, unless drift)."),
        Column("recorded_at", "TIMESTAMP", "When the plan was recorded (UTC)."),
    ),
)

# DuckLake mode with partitions: per bucket and segment, the buyers the bucket assigned and their
# summed distance to the centroid, for the commit's drift test and a refit's ids (dropped by the commit).
SEGMENT_BUCKET_USAGE = TableContract(
    "models.segment_bucket_usage",
    "Buyers and summed distance to the centroid per segment, per customer bucket of the run in progress.",
    (
        Column("segment_id", "BIGINT", "Segment id of the plan's model (a refit's: provisional)."),
        Column("customers", "BIGINT", "Buyers of the bucket assigned to it."),
        Column("distance_sum", "DOUBLE", "Their summed distance to its centroid."),
    ),
)
