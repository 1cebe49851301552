"""Contracts of the other marts: the customer profile, the CLV parameters, data quality, the service queue."""

from __future__ import annotations

from .base import Column, TableContract
from .features import CUSTOMER_FEATURES
from .models import CLV_PREDICTIONS, CUSTOMER_CLASSES, RFM_SCORES
from .segments import SEGMENTS

# The SPEC's columns lead, in the SPEC's order; then every other feature column in the feature
# table's order, the other CLV columns, and the columns only the profile has. Repeated columns come
# from their producer's contract (`pick`): the CLV ones are nullable here (a left join).
_SPEC_FEATURES = ("as_of_date", "recency_days", "frequency", "monetary", "margin")
_SPEC_CLV = ("p_alive", "expected_orders_12m", "clv_12m", "clv_tier")
CUSTOMER_PROFILE = TableContract(
    "marts.customer_profile",
    "Customer profile: one row per customer.",
    (
        RFM_SCORES.column("customer_id", guaranteed=True),
        *CUSTOMER_FEATURES.pick(_SPEC_FEATURES, guaranteed=True),
        *RFM_SCORES.pick(("r_score", "f_score", "m_score", "rfm_segment"), guaranteed=True),
        *CUSTOMER_CLASSES.pick(
            ("lifecycle_stage", "risk_class", "volume_class", "loyalty_class"), guaranteed=True
        ),
        *SEGMENTS.pick(("segment_id", "persona_name")),
        *CLV_PREDICTIONS.pick(_SPEC_CLV, nullable=True, guaranteed=True),
        Column(
            "value_basis",
            "VARCHAR",
            "Money of m_score, clv_12m and the value columns: margin where every counted order's unit costs are known, else revenue.",
            guaranteed=True,
        ),
        *CUSTOMER_FEATURES.columns_except(("customer_id", *_SPEC_FEATURES)),
        *CLV_PREDICTIONS.pick(
            ("expected_orders_3m", "expected_order_value", "expected_margin_per_order", "margin_rate"),
            nullable=True,
        ),
        Column(
            "p_alive_basis",
            "VARCHAR",
            "What p_alive rests on: model, model_without_dropout (the model found no dropout: p_alive is ~1 by construction, read days_overdue instead) or unknown (no CLV model this run).",
        ),
        Column(
            "days_overdue",
            "DOUBLE",
            "Model-free churn signal: days since the last counted order beyond the customer's own mean gap between purchase days (0 = not overdue); NULL with fewer than two purchase days.",
            nullable=True,
        ),
        Column(
            "estimated_margin",
            "DOUBLE",
            "monetary x SEGMENTATION_ASSUMED_MARGIN_RATE: an assumed margin, not data (NULL unless the setting is given and value_basis is revenue).",
            nullable=True,
        ),
        Column(
            "estimated_margin_clv_12m",
            "DOUBLE",
            "clv_12m x SEGMENTATION_ASSUMED_MARGIN_RATE: an assumed margin, not data (NULL unless the setting is given and value_basis is revenue).",
            nullable=True,
        ),
        Column(
            "tickets_per_year",
            "DOUBLE",
            "Service tickets per year from the customer's own history: tickets to date x 365.25 / max(tenure_days, 365.25); NULL without service data.",
            nullable=True,
        ),
        Column(
            "expected_cost_to_serve_12m",
            "DOUBLE",
            "Expected cost to serve over the next 12 months: tickets_per_year x mean_effort_score x cost per effort point (SEGMENTATION_COST_PER_EFFORT_POINT), in SEGMENTATION_CURRENCY; 0 without a ticket, NULL without service data.",
            nullable=True,
        ),
        Column(
            "cost_exceeds_value_12m",
            "BOOLEAN",
            "True when expected_cost_to_serve_12m exceeds clv_12m (serving the customer is expected to cost more than they bring over 12 months); NULL when either is unknown.",
            nullable=True,
        ),
    ),
)


CLV_MODEL_PARAMS = TableContract(
    "marts.clv_model_params",
    "Fitted CLV model parameters.",
    (
        Column("model", "VARCHAR", "bg_nbd, pareto_nbd or gamma_gamma.", guaranteed=True),
        Column(
            "parameter", "VARCHAR", "Parameter name (r, alpha, a, b, s, beta, p, q, gamma).", guaranteed=True
        ),
        Column("value", "DOUBLE", "Maximum-likelihood estimate.", guaranteed=True),
        Column("time_unit", "VARCHAR", "Time unit of the purchase models' rates (week).", guaranteed=True),
        Column("log_likelihood", "DOUBLE", "Log-likelihood of the fit.", guaranteed=True),
        Column("n_customers", "BIGINT", "Customers the model was fitted on.", guaranteed=True),
        Column("fitted_at", "TIMESTAMP", "When the model was fitted (UTC).", guaranteed=True),
        Column(
            "at_bound",
            "BOOLEAN",
            "The estimate ended on the optimiser's bound: for a dropout parameter (a, b, s, beta) the model found no dropout, and P(alive) is ~1 by construction (see p_alive_basis in the profile).",
        ),
        Column(
            "value_basis",
            "VARCHAR",
            "Money the Gamma-Gamma parameters and CLV are in: margin, or revenue when unit costs are unknown.",
        ),
    ),
)


DATA_QUALITY = TableContract(
    "marts.data_quality",
    "Row accounting per landing file.",
    (
        Column("as_of_date", "DATE", "Analysis date of the run that loaded the file.", guaranteed=True),
        Column("source", "VARCHAR", "Source the file belongs to (orders, customers, ...).", guaranteed=True),
        Column("file", "VARCHAR", "Landing file, relative to the raw directory.", guaranteed=True),
        Column(
            "landing_date",
            "DATE",
            "Landing date from the file name (NULL when the name is wrong).",
            nullable=True,
        ),
        Column("status", "VARCHAR", "loaded | partially_loaded | rejected (whole file) | empty."),
        Column("error", "VARCHAR", "Why the whole file was rejected, if it was.", nullable=True),
        Column(
            "rows_received",
            "BIGINT",
            "Data rows in the file (NULL when the file could not be read at all).",
            nullable=True,
            guaranteed=True,
        ),
        Column("rows_loaded", "BIGINT", "Rows loaded into staging.", guaranteed=True),
        Column(
            "rows_quarantined",
            "BIGINT",
            "Rows sent to quarantine.<source> with the rule they failed.",
            guaranteed=True,
        ),
        Column(
            "rows_expected",
            "BIGINT",
            "Quarantined rows whose every rule is declared expected (SEGMENTATION_EXPECTED_REJECTIONS): not counted by the gate.",
        ),
        Column("rejected_share", "DOUBLE", "rows_quarantined / rows_received.", nullable=True),
        Column(
            "quarantined_revenue",
            "DOUBLE",
            "Orders only: revenue of the quarantined completed lines (quantity x unit_price - discount), where it parses.",
            nullable=True,
        ),
        Column(
            "gate",
            "VARCHAR",
            "held (the source's check fails until the file is re-landed or accepted) | accepted | NULL.",
            nullable=True,
        ),
        Column("gate_reason", "VARCHAR", "Why the gate held the file.", nullable=True),
        Column(
            "accepted_by",
            "VARCHAR",
            "Who accepted the held file (python -m segmentation_pipeline accept).",
            nullable=True,
        ),
        Column("accepted_at", "TIMESTAMP", "When it was accepted (UTC).", nullable=True),
        Column("loaded_at", "TIMESTAMP", "When the file was loaded (UTC)."),
    ),
)


SERVICE_QUEUE = TableContract(
    "marts.service_queue",
    "Open service tickets, ranked.",
    (
        Column(
            "rank",
            "BIGINT",
            "Order in which to serve the open tickets, 1 = first: value_at_stake descending (unknown last), then effort_so_far ascending, then oldest first, then ticket_id.",
            guaranteed=True,
        ),
        Column("ticket_id", "VARCHAR", "Open service ticket (not recorded as resolved).", guaranteed=True),
        Column("customer_id", "VARCHAR", "Customer who opened it.", guaranteed=True),
        Column(
            "segment_id",
            "BIGINT",
            "The customer's behavioural segment (NULL for a customer the profile does not know).",
            nullable=True,
            guaranteed=True,
        ),
        Column("persona_name", "VARCHAR", "The segment's persona name."),
        Column("opened_at", "TIMESTAMP", "When the ticket was opened."),
        Column("days_open", "BIGINT", "Whole days from opened_at to the analysis date."),
        Column(
            "channel",
            "VARCHAR",
            "Channel of the ticket (email, phone, chat, social, store; NULL when not recorded).",
            nullable=True,
        ),
        Column(
            "effort_so_far",
            "BIGINT",
            "Effort score recorded on this ticket so far (1-10, the service team's own scale).",
        ),
        Column(
            "value_at_stake",
            "DOUBLE",
            "The customer's expected 12-month value (clv_12m, P(alive)-weighted already), in SEGMENTATION_CURRENCY on value_basis; NULL when no CLV was computed.",
            nullable=True,
            guaranteed=True,
        ),
        Column(
            "p_alive",
            "DOUBLE",
            "The customer's P(alive), shown for reading value_at_stake (not applied a second time).",
            nullable=True,
        ),
        Column(
            "value_basis", "VARCHAR", "Money of value_at_stake: margin or revenue (as in customer_profile)."
        ),
    ),
)
