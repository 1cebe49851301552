"""What each step reads from a contracted table, and whether it copes with nulls there.

A unit test fails when a consumer refuses nulls in a column its producer declares nullable, or
reads a column the producer does not declare (tests/unit/test_contracts.py). Where a step selects
exactly these columns it reads them from here (`Consumer.columns`), so the list cannot go stale.
"""

from __future__ import annotations

from .base import Consumer
from .features import BUILD_STATE, CUSTOMER_FEATURES, CUSTOMER_ORDERS
from .marts import CLV_MODEL_PARAMS, CUSTOMER_PROFILE
from .models import (
    CLV_FIT_STATE,
    CLV_PREDICTIONS,
    CUSTOMER_CLASSES,
    CUSTOMER_SEGMENTS,
    RFM_SCORES,
    SEGMENT_MODEL_STATE,
)
from .ops import GATE_HOLDS, LANDING_FILES
from .segments import RFM_SEGMENTS, SEGMENT_CLAIMS, SEGMENT_HISTORY, SEGMENT_MIGRATIONS, SEGMENTS

# RFM and the classes: prospects have no recency, first order or tenure; costs, payments, returns
# and surveys may be absent from an export (scored as unknown, never as 0).
CUSTOMER_SCORES_READS = Consumer(
    "customer_scores",
    CUSTOMER_FEATURES,
    {
        "customer_id": False, "as_of_date": False, "frequency": False, "purchase_days": False,
        "recency_days": True, "monetary": False, "margin": True, "first_order_date": True, "tenure_days": True,
        "late_payment_share": True, "mean_days_late": True, "return_rate": True, "nps": True,
    },
)  # fmt: skip

CONSUMERS = [
    # The CLV stage reads margin only when the value basis is margin, i.e. when every cost is known
    # (features/value_basis.py): a null margin is expected in a cost-less export.
    Consumer(
        "clv_models",
        CUSTOMER_ORDERS,
        {"customer_id": False, "order_date": False, "revenue": False, "margin": True},
    ),
    Consumer("value_basis", CUSTOMER_ORDERS, {"revenue": False, "margin": True}),
    # A stored fit is reused only when its state row and parameters are whole.
    Consumer(
        "clv_models (stored fit)",
        CLV_FIT_STATE,
        {
            "fitted_as_of": False,
            "chosen_model": False,
            "holdout_json": False,
            "value_basis": False,
            "holdout_days": False,
        },
    ),
    Consumer(
        "clv_models (stored fit)",
        CLV_MODEL_PARAMS,
        {
            "model": False,
            "parameter": False,
            "value": False,
            "time_unit": False,
            "log_likelihood": False,
            "n_customers": False,
            "fitted_at": False,
            "at_bound": False,
        },
    ),  # fmt: skip
    CUSTOMER_SCORES_READS,
    # The segmentation input (sql/models/segmentation_input.sql) left-joins scores, classes and CLV
    # to the features: every joined column may be null there, and the segment model copes.
    Consumer(
        "segmentation_input",
        RFM_SCORES,
        {"customer_id": False, "r_score": True, "f_score": True, "m_score": True, "rfm_segment": True},
    ),
    Consumer(
        "segmentation_input",
        CUSTOMER_CLASSES,
        {"lifecycle_stage": True, "risk_class": True, "volume_class": True, "loyalty_class": True},
    ),
    Consumer(
        "segmentation_input",
        CLV_PREDICTIONS,
        {name: True for name in CLV_PREDICTIONS.names if name != "customer_id"},
    ),
    Consumer(
        "customer_segments",
        SEGMENT_MODEL_STATE,
        {"as_of_date": False, "model_json": False, "recorded_at": True},
    ),
    Consumer("customer_segments", CUSTOMER_SEGMENTS, {"customer_id": False, "segment_id": False}),
    Consumer("segment_marts", CUSTOMER_SEGMENTS, {"customer_id": False, "segment_id": False}),
    Consumer(
        "segment_marts (previous segments)",
        SEGMENT_HISTORY,
        {"customer_id": False, "as_of_date": False, "segment_id": False, "rfm_segment": False},
    ),
    Consumer("customer_profile", CUSTOMER_SEGMENTS, {"customer_id": False, "segment_id": False}),
    Consumer("customer_profile", SEGMENTS, {"segment_id": False, "persona_name": False}),
    Consumer(
        "service_queue",
        CUSTOMER_PROFILE,
        {"customer_id": False, "segment_id": False, "persona_name": False, "clv_12m": True, "p_alive": True},
    ),
    Consumer(
        "rfm_segments",
        CUSTOMER_FEATURES,
        {"customer_id": False, "monetary": False, "margin": True},
    ),
    Consumer("rfm_segments", RFM_SCORES, {"customer_id": False, "rfm_segment": False}),
    Consumer("persona_report", RFM_SEGMENTS, {"rfm_segment": False, "customers": False, "share": True}),
    Consumer(
        "persona_report",
        CUSTOMER_PROFILE,
        {
            "segment_id": False,
            "r_score": True,
            "f_score": True,
            "clv_12m": True,
            "p_alive_basis": False,
            "value_basis": False,
        },
    ),  # fmt: skip
    Consumer("persona_report", SEGMENTS, {c.name: c.nullable for c in SEGMENTS.columns}),
    Consumer("persona_report", SEGMENT_CLAIMS, {c.name: c.nullable for c in SEGMENT_CLAIMS.columns}),
    Consumer("persona_report", RFM_SEGMENTS, {c.name: c.nullable for c in RFM_SEGMENTS.columns}),
    Consumer("persona_report", SEGMENT_MIGRATIONS, {c.name: c.nullable for c in SEGMENT_MIGRATIONS.columns}),
    Consumer(
        "feature refresh",
        BUILD_STATE,
        {
            "as_of_date": False,
            "loaded_through": True,
            "cost_per_effort_point": False,
            "present_sources": False,
            "code_fingerprint": False,
            "built_at": False,
        },
    ),  # fmt: skip
    Consumer(
        "staging loads (manifest)",
        LANDING_FILES,
        {
            "source": False,
            "file": False,
            "size_bytes": True,
            "mtime_ns": True,
            "checksum": True,
            "inode": True,
            "ctime_ns": True,
        },
    ),  # fmt: skip
    Consumer(
        "quality gate",
        GATE_HOLDS,
        {
            "source": False,
            "file": False,
            "reason": False,
            "held_at": False,
            "run_id": True,
            "accepted_at": True,
        },
    ),
]
