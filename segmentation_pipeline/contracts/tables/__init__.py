"""The contract of every table the pipeline writes: columns, types, nullability, descriptions.

One declaration per table, by layer (features.py, models.py, segments.py, marts.py, ops.py; the
shape they are written in: base.py), and from it: the DDL and the table/column comments
(warehouse), Dagster's `dagster/column_schema`, the blocking shape check of each asset's table
(defs/checks.py), the columns BI tools may rely on (`guaranteed`, SPEC "Outputs"; the end-to-end
tests and the Superset dashboard read them from here) and the personal-data guard (no written table
holds a column the landing contract marks personal).

A table that repeats an upstream column (customer_profile repeats the features, scores, classes
and CLV) takes it from the upstream contract (`.column(name)`, `.pick(names)`), so the two cannot
drift apart; only its nullability may differ (a left join makes CLV columns nullable in the profile).

A consumer states what it reads and whether it accepts nulls (consumers.py); a unit test fails when
a consumer refuses nulls in a column its producer declares nullable (tests/unit/test_contracts.py).

Standard library only, and relative imports only: bi/superset (its own environment, without Polars
or Pandera) loads this package from its files.
"""

from __future__ import annotations

from .base import CUSTOMER_ID, Column, Consumer, TableContract
from .consumers import CONSUMERS
from .features import BUILD_PLAN, BUILD_STATE, CUSTOMER_FEATURES, CUSTOMER_ORDERS
from .marts import CLV_MODEL_PARAMS, CUSTOMER_PROFILE, DATA_QUALITY, SERVICE_QUEUE
from .models import (
    CLV_FIT_STATE,
    CLV_PREDICTIONS,
    CLV_RUN_PLAN,
    CUSTOMER_CLASSES,
    CUSTOMER_SEGMENTS,
    RFM_SCORES,
    SEGMENT_BUCKET_USAGE,
    SEGMENT_MODEL_STATE,
    SEGMENT_RUN_PLAN,
)
from .ops import (
    ERASED_CUSTOMERS,
    GATE_HOLDS,
    LANDING_FILES,
    OPS_TABLES,
    STAGING_REPLACEMENTS,
    quarantine_contract,
)
from .segments import RFM_SEGMENTS, SEGMENT_CLAIMS, SEGMENT_HISTORY, SEGMENT_MIGRATIONS, SEGMENTS

# The tables assets write: each has a column schema in Dagster and a blocking contract check.
WRITTEN_TABLES: dict[str, TableContract] = {
    c.table: c
    for c in (
        CUSTOMER_ORDERS, CUSTOMER_FEATURES, RFM_SCORES, CUSTOMER_CLASSES, CLV_PREDICTIONS, CUSTOMER_SEGMENTS,
        CLV_MODEL_PARAMS, SEGMENTS, SEGMENT_CLAIMS, SEGMENT_HISTORY, SEGMENT_MIGRATIONS, RFM_SEGMENTS,
        CUSTOMER_PROFILE, DATA_QUALITY, SERVICE_QUEUE,
    )
}  # fmt: skip

# The tables steps keep for themselves across runs (bookkeeping and model state, not assets);
# `quarantine_contract(source)` gives each source's quarantine table.
STATE_TABLES: dict[str, TableContract] = {
    c.table: c
    for c in (
        *OPS_TABLES,
        BUILD_PLAN,
        BUILD_STATE,
        CLV_FIT_STATE,
        CLV_RUN_PLAN,
        SEGMENT_MODEL_STATE,
        SEGMENT_RUN_PLAN,
        SEGMENT_BUCKET_USAGE,
    )
}

# The BI contract: per published mart, the columns a dashboard may rely on.
GUARANTEED = {c.name: c.guaranteed for c in WRITTEN_TABLES.values() if c.schema == "marts" and c.guaranteed}

__all__ = [
    "BUILD_PLAN", "BUILD_STATE", "CLV_FIT_STATE", "CLV_MODEL_PARAMS", "CLV_PREDICTIONS", "CLV_RUN_PLAN", "CONSUMERS", "CUSTOMER_CLASSES",
    "CUSTOMER_FEATURES", "CUSTOMER_ID", "CUSTOMER_ORDERS", "CUSTOMER_PROFILE", "CUSTOMER_SEGMENTS",
    "DATA_QUALITY", "ERASED_CUSTOMERS", "GATE_HOLDS", "GUARANTEED", "LANDING_FILES", "OPS_TABLES",
    "RFM_SCORES", "RFM_SEGMENTS", "SEGMENTS", "SEGMENT_CLAIMS", "SEGMENT_HISTORY", "SEGMENT_MIGRATIONS",
    "SEGMENT_BUCKET_USAGE", "SEGMENT_MODEL_STATE", "SEGMENT_RUN_PLAN", "SERVICE_QUEUE", "STAGING_REPLACEMENTS", "STATE_TABLES", "WRITTEN_TABLES",
    "Column", "Consumer", "TableContract", "quarantine_contract",
]  # fmt: skip
