"""Contracts of the feature layer: counted orders, customer features and the build's state."""

from __future__ import annotations

from .base import Column, TableContract

CUSTOMER_ORDERS = TableContract(
    "features.customer_orders",
    "Counted orders up to the analysis date.",
    (
        Column("customer_id", "VARCHAR", "Customer who placed the order."),
        Column("order_id", "VARCHAR", "Order identifier."),
        Column("ordered_at", "TIMESTAMP", "When the order was placed (UTC)."),
        Column("order_date", "DATE", "Day of the order (UTC)."),
        Column("channel", "VARCHAR", "Channel of the order: online, store or phone."),
        Column("revenue", "DOUBLE", "Revenue of the completed lines: quantity x unit_price - discount."),
        Column(
            "margin",
            "DOUBLE",
            "Revenue minus quantity x unit_cost of the completed lines (NULL when a cost is unknown).",
            nullable=True,
        ),
        Column("gross", "DOUBLE", "quantity x unit_price of the completed lines, before discount."),
        Column("discount", "DOUBLE", "Discount on the completed lines."),
        Column(
            "is_occasion",
            "BOOLEAN",
            "At least one line was bought for a special occasion (NULL when no line records an occasion).",
            nullable=True,
        ),
        Column("n_lines", "INTEGER", "Lines in the order (all statuses)."),
    ),
)


# Counts and sums from an optional source (service, social, surveys) are 0 for a customer it says
# nothing about and null when the source is absent (unknown, not zero): hence nullable.
CUSTOMER_FEATURES = TableContract(
    "features.customer_features",
    "Customer features as of the analysis date.",
    (
        Column(
            "customer_id",
            "VARCHAR",
            "Customer identifier (from the customer master or, for unknown customers, from orders).",
        ),
        Column("as_of_date", "DATE", "Analysis date: no data dated after it was used."),
        Column(
            "is_known_customer",
            "BOOLEAN",
            "True when the customer is in the customer master (signed up by the analysis date).",
        ),
        Column(
            "recency_days",
            "INTEGER",
            "Whole days from the last counted order to the analysis date; null for prospects.",
            nullable=True,
        ),
        Column("frequency", "INTEGER", "Number of counted orders (orders with at least one completed line)."),
        Column("purchase_days", "INTEGER", "Number of distinct days with a counted order."),
        Column(
            "monetary", "DOUBLE", "Revenue of completed lines: sum of quantity x unit price minus discount."
        ),
        Column(
            "margin",
            "DOUBLE",
            "Revenue minus quantity x unit cost of completed lines, over orders whose costs are known; null if none are.",
            nullable=True,
        ),
        Column("avg_order_value", "DOUBLE", "Revenue per counted order; null for prospects.", nullable=True),
        Column("first_order_date", "DATE", "Date of the first counted order.", nullable=True),
        Column("last_order_date", "DATE", "Date of the last counted order.", nullable=True),
        Column(
            "tenure_days",
            "INTEGER",
            "Days from signup (or, without a signup date, the first counted order) to the analysis date.",
            nullable=True,
        ),
        Column(
            "mean_days_between_orders",
            "DOUBLE",
            "Mean gap in days between distinct purchase days; null with fewer than two.",
            nullable=True,
        ),
        Column("share_online", "DOUBLE", "Share of counted orders placed online.", nullable=True),
        Column("share_store", "DOUBLE", "Share of counted orders placed in store.", nullable=True),
        Column("share_phone", "DOUBLE", "Share of counted orders placed by phone.", nullable=True),
        Column(
            "preferred_channel",
            "VARCHAR",
            "Channel with the most counted orders (ties: online, then store, then phone).",
            nullable=True,
        ),
        Column(
            "top_category",
            "VARCHAR",
            "Product category with the most revenue (ties: alphabetical).",
            nullable=True,
        ),
        Column("top_brand", "VARCHAR", "Brand with the most revenue (ties: alphabetical).", nullable=True),
        Column(
            "brand_concentration",
            "DOUBLE",
            "Share of revenue spent on the top brand (0 to 1).",
            nullable=True,
        ),
        Column(
            "discount_share",
            "DOUBLE",
            "Discounts as a share of gross value (quantity x unit price) of completed lines that record a discount (0 included); null when none does.",
            nullable=True,
        ),
        Column(
            "occasion_share",
            "DOUBLE",
            "Share of counted orders bought for a special occasion (gift, holiday, birthday, event), among those that record an occasion; null when none does.",
            nullable=True,
        ),
        Column(
            "return_rate",
            "DOUBLE",
            "Returned lines / (completed + returned lines), over all orders.",
            nullable=True,
        ),
        Column("cancel_rate", "DOUBLE", "Cancelled lines / all order lines.", nullable=True),
        Column(
            "late_payment_share",
            "DOUBLE",
            "Share of counted orders with a line paid late (payment_days_late > 0), among those whose payment is on record; null when none is.",
            nullable=True,
        ),
        Column(
            "mean_days_late",
            "DOUBLE",
            "Mean days late over late-paid counted orders (an order's lateness is its latest line); 0 if none; null when no payment is on record.",
            nullable=True,
        ),
        Column("service_contacts", "INTEGER", "Number of service tickets opened.", nullable=True),
        Column(
            "mean_effort_score",
            "DOUBLE",
            "Mean effort score (1-10) of those tickets; null without tickets.",
            nullable=True,
        ),
        Column("total_effort", "BIGINT", "Sum of the effort scores of those tickets.", nullable=True),
        Column(
            "cost_to_serve", "DOUBLE", "Service cost: total effort x cost per effort point.", nullable=True
        ),
        Column("unresolved_tickets", "INTEGER", "Tickets not recorded as resolved.", nullable=True),
        Column(
            "social_followers",
            "BIGINT",
            "Followers summed over platforms, latest observation per platform.",
            nullable=True,
        ),
        Column("social_platforms", "INTEGER", "Number of social platforms observed.", nullable=True),
        Column(
            "engagement_rate",
            "DOUBLE",
            "Engagement rate averaged over platforms, weighted by followers.",
            nullable=True,
        ),
        Column(
            "brand_mentions_90d",
            "BIGINT",
            "Brand mentions in the last 90 days, summed over platforms (latest observations).",
            nullable=True,
        ),
        Column(
            "influence_tier",
            "VARCHAR",
            "Reach tier: none (0), nano (<1k), micro (1k-10k), mid (10k-100k), macro (>=100k followers).",
            nullable=True,
        ),
        Column(
            "discovery_channel",
            "VARCHAR",
            "How the customer discovered the brand (latest survey answer).",
            nullable=True,
        ),
        Column(
            "main_motivation", "VARCHAR", "Main purchase motivation (latest survey answer).", nullable=True
        ),
        Column("main_barrier", "VARCHAR", "Main purchase barrier (latest survey answer).", nullable=True),
        Column(
            "importance_price",
            "INTEGER",
            "Importance of price in the purchase decision, 1-5 (latest survey answer).",
            nullable=True,
        ),
        Column(
            "importance_brand",
            "INTEGER",
            "Importance of the brand in the purchase decision, 1-5 (latest survey answer).",
            nullable=True,
        ),
        Column(
            "importance_reviews",
            "INTEGER",
            "Importance of reviews in the purchase decision, 1-5 (latest survey answer).",
            nullable=True,
        ),
        Column(
            "importance_features",
            "INTEGER",
            "Importance of product features in the purchase decision, 1-5 (latest survey answer).",
            nullable=True,
        ),
        Column(
            "importance_service",
            "INTEGER",
            "Importance of service in the purchase decision, 1-5 (latest survey answer).",
            nullable=True,
        ),
        Column(
            "brand_perception",
            "VARCHAR",
            "How the customer perceives the brand (latest survey answer).",
            nullable=True,
        ),
        Column("satisfaction", "INTEGER", "Satisfaction, 1-10 (latest survey answer).", nullable=True),
        Column("nps", "INTEGER", "Likelihood to recommend, 0-10 (latest survey answer).", nullable=True),
        Column("survey_count", "INTEGER", "Number of survey responses submitted.", nullable=True),
        Column("age", "INTEGER", "Age in years: analysis year minus birth year.", nullable=True),
        Column("gender", "VARCHAR", "Gender.", nullable=True),
        Column("city", "VARCHAR", "City.", nullable=True),
        Column("region", "VARCHAR", "Region.", nullable=True),
        Column("country", "VARCHAR", "Country (ISO alpha-2).", nullable=True),
        Column("income_band", "VARCHAR", "Income band.", nullable=True),
        Column("profession", "VARCHAR", "Profession.", nullable=True),
        Column("web_savviness", "VARCHAR", "Web savviness: low, average or high.", nullable=True),
        Column(
            "acquisition_channel",
            "VARCHAR",
            "Channel through which the customer was acquired.",
            nullable=True,
        ),
        Column("signup_date", "DATE", "Signup date.", nullable=True),
    ),
)


# What the feature tables were last built from (one row): the next build compares it with the
# present to decide between refreshing only the customers whose inputs changed and a full build.
BUILD_STATE = TableContract(
    "features.build_state",
    "What the feature tables were last built from (one row, replaced by each build).",
    (
        Column("as_of_date", "DATE", "Analysis date of the build."),
        Column("loaded_through", "TIMESTAMP", "Newest staging _loaded_at the build saw.", nullable=True),
        Column("cost_per_effort_point", "DOUBLE", "SEGMENTATION_COST_PER_EFFORT_POINT of the build."),
        Column("present_sources", "VARCHAR", "Sources with rows, comma-separated."),
        Column("code_fingerprint", "VARCHAR", "Fingerprint of the feature code and SQL."),
        Column("mode", "VARCHAR", "full | incremental."),
        Column("reason", "VARCHAR", "Why the build was full or incremental."),
        Column("customers_recomputed", "BIGINT", "Customers whose features the build computed."),
        Column("built_at", "TIMESTAMP", "When the build ran (UTC)."),
    ),
)


# DuckLake mode with partitions: what the feature build's plan step decided, for its bucket steps
# and its commit (one row per run, replaced by the next; defs/features.py).
BUILD_PLAN = TableContract(
    "features.build_plan",
    "The feature build of the run in progress (full or incremental, and why), for its bucket steps.",
    (
        Column("as_of_date", "DATE", "Analysis date of the run."),
        Column("plan_json", "VARCHAR", "Mode, reason, build state, and the build when done whole."),
        Column("recorded_at", "TIMESTAMP", "When the plan was recorded (UTC)."),
    ),
)
