"""Customer features: one row per customer as of the analysis date, built from every staged source.

Pure Polars (no Dagster). Inputs are typed as in `contracts/models.py`; customers and products are
already reduced to their latest version per id. Everything is expressed as lazy filters, joins
and group-bys (no Python loops over rows), so 1M customers / 10M order lines take seconds.

Order lines are summarised once, by DuckDB while it scans staging (`staging.reads.read_order_facts`
-> `OrderFacts`: one row per order, and each customer's top category and brand); the counted
orders and the features are built from that summary in Polars (order_features.py:
`counted_orders_from_summary`, `customer_order_features`), the optional sources' features in
source_features.py, and the whole row here (`customer_features_from_orders`); what each source
is read for: inputs.py.

Definitions (SPEC, "Outputs"): an order counts when at least one of its lines is `completed`;
`returned` and `cancelled` lines add no revenue. Line revenue = quantity x unit_price - discount;
line margin = revenue - quantity x unit_cost. Recency is whole days from the last counted order
to the analysis date. Data dated after the analysis date is ignored in every source.

Decisions worth knowing:
- Unknown unit cost (a product missing from `products`, or no products source at all): the
  order's margin is null, never computed with a guessed cost (a cost of 0 would overstate margin
  by the whole revenue). A customer's margin sums the orders whose margin is known (a lower
  bound when some are unknown) and is null only when none of their counted orders can be costed.
- An absent optional source leaves its columns null (unknown), including its counts. A present
  source with nothing for a customer gives counts and sums of 0 and means of null.
- Personal data (email, full_name, handle, comment) is never selected.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from segmentation_pipeline.contracts.tables import CUSTOMER_FEATURES
from segmentation_pipeline.features.inputs import DEMOGRAPHICS, empty_source, ratio
from segmentation_pipeline.features.source_features import (
    influence_tier,
    service_features,
    social_features,
    survey_features,
)


def customer_features_from_orders(
    order_features: pl.DataFrame,
    top_category: pl.DataFrame,
    top_brand: pl.DataFrame,
    *,
    customers: pl.LazyFrame | pl.DataFrame | None,
    surveys: pl.LazyFrame | pl.DataFrame | None,
    social: pl.LazyFrame | pl.DataFrame | None,
    service: pl.LazyFrame | pl.DataFrame | None,
    as_of: date,
    cost_per_effort_point: float = 2.0,
    sorted_by_id: bool = True,
) -> pl.DataFrame:
    """One row per customer known on `as_of` from already summarised orders (in customer_id order
    unless not `sorted_by_id`), with the columns of its contract (contracts/tables/).

    The universe is the customer master (without customers who signed up after as_of) plus every
    customer_id with an order up to as_of: orders of customers missing from the master still count
    (`is_known_customer` = False). A master record with a signup_date after as_of did not exist
    yet: its customer appears only through orders up to as_of, if any, as an unknown customer.
    Prospects (no counted order) have frequency 0, monetary 0, margin 0 and null recency. Any
    optional source may be None: its columns are then null. Customers and products are used as
    given (their latest version, even if updated after as_of: older versions are not kept).

    order_features: `customer_order_features(summary, as_of)`; top_category and top_brand: as in
    `OrderFacts`. Taking these rather than the order summary lets a caller free the summary (5.5M
    rows at 1M customers) before the per-customer joins.

    The other sources need only the columns the features use (customers: customer_id,
    birth_year and the demographics; surveys: response_id, customer_id, submitted_at and the
    answers; social: customer_id, platform, followers, engagement_rate, brand_mentions_90d,
    observed_at; service: customer_id, opened_at, effort_score, resolved).
    """
    # Counts and sums from a present source are 0 for a customer it says nothing about; from an
    # absent source they stay null (unknown).
    zero_when_present = {
        "service": ["service_contacts", "total_effort", "cost_to_serve", "unresolved_tickets"],
        "social": ["social_followers", "social_platforms", "brand_mentions_90d"],
        "surveys": ["survey_count"],
    }
    present = {"service": service is not None, "social": social is not None, "surveys": surveys is not None}
    customers = empty_source("customers") if customers is None else customers.lazy()
    surveys = empty_source("surveys") if surveys is None else surveys.lazy()
    social = empty_source("social") if social is None else social.lazy()
    service = empty_source("service") if service is None else service.lazy()

    from_orders = order_features.lazy()
    # A customer record dated after as_of did not exist yet on that day.
    master = (
        customers.filter(pl.col("signup_date").is_null() | (pl.col("signup_date") <= as_of))
        .select("customer_id", "birth_year", *DEMOGRAPHICS)
        .with_columns(is_known_customer=pl.lit(True))
    )
    frame = (
        master.join(from_orders, on="customer_id", how="full", coalesce=True)
        .join(top_category.lazy(), on="customer_id", how="left")
        .join(top_brand.lazy(), on="customer_id", how="left")
        .join(service_features(service, as_of, cost_per_effort_point), on="customer_id", how="left")
        .join(social_features(social, as_of), on="customer_id", how="left")
        .join(survey_features(surveys, as_of), on="customer_id", how="left")
    )

    fills = [pl.col(c).fill_null(0) for s, cols in zero_when_present.items() if present[s] for c in cols]
    frame = frame.with_columns(
        *fills,
        is_known_customer=pl.col("is_known_customer").fill_null(False),
        # Prospects: no counted order, so nothing bought and nothing earned.
        frequency=pl.col("frequency").fill_null(0),
        purchase_days=pl.col("purchase_days").fill_null(0),
        monetary=pl.col("monetary").fill_null(0.0),
        margin=pl.when(pl.col("frequency").fill_null(0) == 0).then(0.0).otherwise("margin"),
    ).with_columns(
        as_of_date=pl.lit(as_of, dtype=pl.Date),
        tenure_days=(pl.lit(as_of) - pl.coalesce("signup_date", "first_order_date"))
        .dt.total_days()
        .cast(pl.Int32),
        brand_concentration=ratio("top_brand_revenue", "monetary"),
        influence_tier=influence_tier(pl.col("social_followers")),
        age=(pl.lit(as_of.year, dtype=pl.Int32) - pl.col("birth_year")).cast(pl.Int32),
    )
    frame = frame.select(CUSTOMER_FEATURES.names).collect()
    if not sorted_by_id:
        # In one piece: DuckDB writes a frame of many chunks (the joins' output) twice as slowly.
        return frame.rechunk()
    # Sorted by gathering every column in id order: a lazy `.sort()` here peaks far higher in
    # memory for a little less CPU.
    return frame.select(pl.all().gather(frame["customer_id"].arg_sort()))
