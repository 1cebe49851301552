"""The contract of every table the pipeline writes: columns, types, nullability, descriptions.

One declaration per table, and from it: the DDL and the table/column comments (warehouse),
Dagster's `dagster/column_schema`, the blocking shape check of each table (defs/checks.py), the
columns BI tools may rely on (`guaranteed`, SPEC "Outputs"; the end-to-end tests and the Superset
dashboard read them from here) and the personal-data guard (no written table holds a column the
landing contract marks personal).

A table that repeats an upstream column (customer_profile repeats the features, scores, classes
and CLV) takes it from the upstream contract with `.column(name)`, so the two cannot drift apart;
only its nullability may differ (a left join makes CLV columns nullable in the profile).

A consumer states what it reads and whether it accepts nulls (`Consumer`); a unit test fails when a
consumer refuses nulls in a column its producer declares nullable (tests/unit/test_contracts.py).

Standard library only: bi/superset (its own environment, without Polars or Pandera) loads this file.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB type, as information_schema.columns.data_type spells it
    description: str
    nullable: bool = False
    # Part of the BI contract (SPEC "Outputs"): dashboards may rely on it; never renamed or dropped.
    guaranteed: bool = False


@dataclass(frozen=True)
class TableContract:
    table: str  # schema.name
    description: str
    columns: tuple[Column, ...]

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.table}: a column is declared twice")

    @property
    def schema(self) -> str:
        return self.table.split(".")[0]

    @property
    def name(self) -> str:
        return self.table.split(".")[1]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def descriptions(self) -> dict[str, str]:
        return {c.name: c.description for c in self.columns}

    @property
    def guaranteed(self) -> list[str]:
        return [c.name for c in self.columns if c.guaranteed]

    def column(self, name: str, **changes: object) -> Column:
        """This table's column `name`, for a table that repeats it (with `nullable`/`guaranteed` changed)."""
        for column in self.columns:
            if column.name == name:
                return dataclasses.replace(column, **changes)
        raise KeyError(f"{self.table} has no column {name!r}")

    def ddl(self, replace: bool = False) -> str:
        """CREATE TABLE with the contract's types and NOT NULL constraints (an empty typed table)."""
        columns = ", ".join(f'"{c.name}" {c.type}{"" if c.nullable else " NOT NULL"}' for c in self.columns)
        create = "CREATE OR REPLACE TABLE" if replace else "CREATE TABLE IF NOT EXISTS"
        return f"{create} {self.table} ({columns})"


@dataclass(frozen=True)
class Consumer:
    """What a step reads from a table: per column, whether it copes with nulls."""

    name: str
    table: TableContract
    accepts_null: dict[str, bool]


CUSTOMER_ID = Column("customer_id", "VARCHAR", "Customer identifier.")


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


SEGMENTS = TableContract(
    "marts.segments",
    "Behavioural segments and personas.",
    (
        Column(
            "segment_id",
            "BIGINT",
            "Behavioural segment id (stable across runs; retired ids are never reused; 0 = prospects).",
            guaranteed=True,
        ),
        Column(
            "persona_name", "VARCHAR", "Persona name, derived from the segment's profile.", guaranteed=True
        ),
        Column("customers", "BIGINT", "Customers in the segment.", guaranteed=True),
        Column("customer_share", "DOUBLE", "Share of all customers.", guaranteed=True),
        Column("revenue_share", "DOUBLE", "Share of all revenue.", guaranteed=True),
        Column(
            "avg_clv_12m",
            "DOUBLE",
            "Average 12-month discounted CLV on the value basis (NULL when CLV was not computed).",
            nullable=True,
            guaranteed=True,
        ),
        Column("narrative_en", "VARCHAR", "The persona's story in English.", guaranteed=True),
        Column("narrative_fr", "VARCHAR", "The persona's story in French.", guaranteed=True),
        Column(
            "positioning_statement",
            "VARCHAR",
            "Positioning statement: [brand] offers [target] a [category] with [features] that gives [benefits].",
            guaranteed=True,
        ),
        Column(
            "recommended_actions",
            "VARCHAR",
            "Channel, message, cadence and service approach derived from the profile.",
            guaranteed=True,
        ),
        Column(
            "roi",
            "DOUBLE",
            "Service ROI over the next 12 months, as a multiple of the expected 12-month cost to serve: (clv_12m_total - expected_cost_to_serve_12m) / expected_cost_to_serve_12m, on value_basis (2.0 = each unit of service cost brings two units of net value). NULL without service data, without a ticket (cost 0) or without CLV.",
            nullable=True,
            guaranteed=True,
        ),
        Column(
            "service_priority",
            "BIGINT",
            "Rank of the segment's roi, highest first (1 = serve first), ties by lower segment_id; NULL where roi is NULL. Exactly that rule: no weighting, no clipping.",
            nullable=True,
            guaranteed=True,
        ),
        Column(
            "defining_traits", "VARCHAR", "What sets the segment apart from the whole base (z-scores, lifts)."
        ),
        Column(
            "top_motivations",
            "VARCHAR",
            "Main purchase motivations in the segment's survey answers, with shares (NULL under 5 answers).",
            nullable=True,
        ),
        Column(
            "top_barriers",
            "VARCHAR",
            "Main barriers to purchase in the survey answers, with shares (NULL under 5 answers).",
            nullable=True,
        ),
        Column(
            "decision_factors",
            "VARCHAR",
            "Mean importance (1-5) of each decision factor in the survey answers (NULL under 5 answers).",
            nullable=True,
        ),
        Column(
            "discovery_channels",
            "VARCHAR",
            "How the respondents found the brand, with shares (NULL under 5 answers).",
            nullable=True,
        ),
        Column(
            "brand_perceptions",
            "VARCHAR",
            "How the respondents see the brand, with shares (NULL under 5 answers).",
            nullable=True,
        ),
        Column(
            "revenue",
            "DOUBLE",
            "Revenue of the segment's customers to date (all history up to as_of_date), in SEGMENTATION_CURRENCY.",
        ),
        Column(
            "margin",
            "DOUBLE",
            "Margin of the segment's customers to date, over the orders whose unit costs are known (NULL where none is).",
            nullable=True,
        ),
        Column(
            "cost_to_serve",
            "DOUBLE",
            "Service cost to date (all history): total_service_effort x cost per effort point; NULL without service data.",
            nullable=True,
        ),
        Column(
            "clv_12m_total",
            "DOUBLE",
            "Expected value of the segment's customers over the next 12 months: sum of clv_12m, on value_basis (NULL without CLV). The value V of roi.",
            nullable=True,
        ),
        Column("first_name", "VARCHAR", "The persona's first name, used in the stories."),
        Column(
            "positioning_statement_fr",
            "VARCHAR",
            "Positioning statement in French, on the seed template: « [marque] propose à [cible] [catégorie] ayant [caractéristiques] qui leur offre [bénéfices]. »",
        ),
        Column("action_channel", "VARCHAR", "Recommended channel (part of recommended_actions)."),
        Column("action_message", "VARCHAR", "Recommended message (part of recommended_actions)."),
        Column("action_cadence", "VARCHAR", "Recommended contact cadence (part of recommended_actions)."),
        Column(
            "action_service",
            "VARCHAR",
            "Recommended service approach, read from service_priority alone (part of recommended_actions).",
        ),
        Column("survey_respondents", "BIGINT", "Customers of the segment with at least one survey answer."),
        Column(
            "expected_cost_to_serve_12m",
            "DOUBLE",
            "Expected cost to serve over the next 12 months: sum over the customers of tickets per year (tickets to date x 365.25 / max(tenure_days, 365.25)) x mean effort score x cost per effort point. The cost C of roi; NULL without service data.",
            nullable=True,
        ),
        Column(
            "customers_cost_exceeds_value",
            "BIGINT",
            "Customers whose expected 12-month cost to serve exceeds their clv_12m (customer_profile.cost_exceeds_value_12m); NULL without service data or CLV.",
            nullable=True,
        ),
        Column(
            "service_tickets",
            "DOUBLE",
            "Service tickets opened by the segment's customers to date; NULL without service data.",
            nullable=True,
        ),
        Column(
            "total_service_effort",
            "DOUBLE",
            "Sum of the effort scores (1-10 each) of those tickets; NULL without service data.",
            nullable=True,
        ),
        Column(
            "mean_effort_score",
            "DOUBLE",
            "Mean effort score per ticket (1-10): total_service_effort / service_tickets; NULL without tickets.",
            nullable=True,
        ),
        Column(
            "median_order_value",
            "DOUBLE",
            "Median of the customers' average order value, in SEGMENTATION_CURRENCY (revenue).",
            nullable=True,
        ),
        Column("median_frequency", "DOUBLE", "Median number of counted orders per customer."),
        Column("median_recency_days", "DOUBLE", "Median days since the last counted order.", nullable=True),
        Column("share_online", "DOUBLE", "Mean share of the customers' orders placed online.", nullable=True),
        Column(
            "share_store", "DOUBLE", "Mean share of the customers' orders placed in store.", nullable=True
        ),
        Column(
            "share_phone", "DOUBLE", "Mean share of the customers' orders placed by phone.", nullable=True
        ),
        Column(
            "occasion_share",
            "DOUBLE",
            "Mean share of orders recorded with an occasion (gift, holiday, birthday, special event).",
            nullable=True,
        ),
        Column("discount_share", "DOUBLE", "Mean share of gross revenue given as discount.", nullable=True),
        Column(
            "late_payment_share",
            "DOUBLE",
            "Mean share of orders paid late (NULL without payment data).",
            nullable=True,
        ),
        Column(
            "mean_service_effort_per_customer",
            "DOUBLE",
            "Mean per customer of the total effort points of their tickets to date (NULL without service data).",
            nullable=True,
        ),
        Column("median_age", "DOUBLE", "Median age in years (NULL without birth years).", nullable=True),
        Column(
            "nps_score",
            "DOUBLE",
            "Net promoter score of the respondents: % promoters (9-10) minus % detractors (0-6).",
            nullable=True,
        ),
        Column(
            "value_basis",
            "VARCHAR",
            "Money of revenue-independent value columns (margin, roi, avg_clv_12m): margin where every counted order's unit costs are known, else revenue.",
            guaranteed=True,
        ),
        Column(
            "estimated_margin",
            "DOUBLE",
            "Revenue x SEGMENTATION_ASSUMED_MARGIN_RATE: an assumed margin, not data (NULL unless the setting is given and value_basis is revenue).",
            nullable=True,
        ),
        Column(
            "estimated_margin_clv_12m",
            "DOUBLE",
            "clv_12m_total x SEGMENTATION_ASSUMED_MARGIN_RATE: an assumed margin, not data (NULL unless the setting is given and value_basis is revenue).",
            nullable=True,
        ),
    ),
)


SEGMENT_CLAIMS = TableContract(
    "marts.segment_claims",
    "One row per fact a persona states, with its evidence (every narrative sentence is one row).",
    (
        Column("segment_id", "BIGINT", "Behavioural segment the persona tells.", guaranteed=True),
        Column(
            "sentence", "BIGINT", "Position of the claim's sentence in the persona's narrative (1 = first)."
        ),
        Column(
            "claim",
            "VARCHAR",
            "What is claimed: a share claim's key (e.g. buys_in_store), column=value for a mode (e.g. income_band=40k_70k), a statistic's key, or mixture:role_a+role_b.",
            guaranteed=True,
        ),
        Column(
            "kind",
            "VARCHAR",
            "share (a per-customer test), mode (most common value), statistic (differs from the base) or mixture.",
        ),
        Column(
            "value",
            "DOUBLE",
            "The claim's value in the segment: the mean of the tested column (share), the mode's share, the statistic, or the first group's share (mixture).",
            guaranteed=True,
        ),
        Column(
            "base_value",
            "DOUBLE",
            "The same over the whole base (mixture: the second group's share).",
            guaranteed=True,
        ),
        Column(
            "support_share",
            "DOUBLE",
            "Share of the segment's customers (with the data) the claim holds for; stated only at >= SEGMENTATION_CLAIM_SUPPORT (60%) (gender 65%), statistics when 25% away from the base (support: customers on the same side).",
            guaranteed=True,
        ),
        Column(
            "known_customers",
            "BIGINT",
            "Customers of the segment whose data the claim reads (respondents for survey claims).",
        ),
        Column(
            "text_en",
            "VARCHAR",
            "The sentence of the English narrative that states the claim.",
            guaranteed=True,
        ),
        Column(
            "text_fr",
            "VARCHAR",
            "The sentence of the French narrative that states the claim.",
            guaranteed=True,
        ),
    ),
)


SEGMENT_HISTORY = TableContract(
    "marts.segment_history",
    "Segment changes per customer over time.",
    (
        Column("customer_id", "VARCHAR", "Customer identifier.", guaranteed=True),
        Column(
            "as_of_date",
            "DATE",
            "Run date from which this row holds (a row is written when a customer's segments change).",
            guaranteed=True,
        ),
        Column("segment_id", "BIGINT", "Behavioural segment from that date.", guaranteed=True),
        Column("rfm_segment", "VARCHAR", "RFM segment from that date.", guaranteed=True),
    ),
)


SEGMENT_MIGRATIONS = TableContract(
    "marts.segment_migrations",
    "Segment migrations per run.",
    (
        Column("as_of_date", "DATE", "Run date of the move.", guaranteed=True),
        Column("kind", "VARCHAR", "segment (behavioural segment ids) or rfm (RFM segment names)."),
        Column(
            "from_segment",
            "VARCHAR",
            "Segment before the run (NULL = new customer).",
            nullable=True,
            guaranteed=True,
        ),
        Column("to_segment", "VARCHAR", "Segment after the run.", guaranteed=True),
        Column(
            "customers",
            "BIGINT",
            "Customers who made this move (from = to: customers who stayed).",
            guaranteed=True,
        ),
        Column("revenue", "DOUBLE", "Their revenue to date.", guaranteed=True),
    ),
)


RFM_SEGMENTS = TableContract(
    "marts.rfm_segments",
    "RFM segment summary.",
    (
        Column("rfm_segment", "VARCHAR", "RFM segment (Champions ... Lost, Prospect).", guaranteed=True),
        SEGMENTS.column("customers"),
        Column("revenue", "DOUBLE", "Their revenue.", guaranteed=True),
        Column("margin", "DOUBLE", "Their margin.", guaranteed=True, nullable=True),
        Column("share", "DOUBLE", "Share of all customers (the shares sum to 1).", guaranteed=True),
    ),
)


CUSTOMER_PROFILE = TableContract(
    "marts.customer_profile",
    "Customer profile: one row per customer.",
    (
        RFM_SCORES.column("customer_id", guaranteed=True),
        CUSTOMER_FEATURES.column("as_of_date", guaranteed=True),
        CUSTOMER_FEATURES.column("recency_days", guaranteed=True),
        CUSTOMER_FEATURES.column("frequency", guaranteed=True),
        CUSTOMER_FEATURES.column("monetary", guaranteed=True),
        CUSTOMER_FEATURES.column("margin", guaranteed=True),
        RFM_SCORES.column("r_score", guaranteed=True),
        RFM_SCORES.column("f_score", guaranteed=True),
        RFM_SCORES.column("m_score", guaranteed=True),
        RFM_SCORES.column("rfm_segment", guaranteed=True),
        CUSTOMER_CLASSES.column("lifecycle_stage", guaranteed=True),
        CUSTOMER_CLASSES.column("risk_class", guaranteed=True),
        CUSTOMER_CLASSES.column("volume_class", guaranteed=True),
        CUSTOMER_CLASSES.column("loyalty_class", guaranteed=True),
        SEGMENTS.column("segment_id"),
        SEGMENTS.column("persona_name"),
        CLV_PREDICTIONS.column("p_alive", nullable=True, guaranteed=True),
        CLV_PREDICTIONS.column("expected_orders_12m", nullable=True, guaranteed=True),
        CLV_PREDICTIONS.column("clv_12m", nullable=True, guaranteed=True),
        CLV_PREDICTIONS.column("clv_tier", nullable=True, guaranteed=True),
        Column(
            "value_basis",
            "VARCHAR",
            "Money of m_score, clv_12m and the value columns: margin where every counted order's unit costs are known, else revenue.",
            guaranteed=True,
        ),
        CUSTOMER_FEATURES.column("is_known_customer"),
        CUSTOMER_FEATURES.column("purchase_days"),
        CUSTOMER_FEATURES.column("avg_order_value"),
        CUSTOMER_FEATURES.column("first_order_date"),
        CUSTOMER_FEATURES.column("last_order_date"),
        CUSTOMER_FEATURES.column("tenure_days"),
        CUSTOMER_FEATURES.column("mean_days_between_orders"),
        CUSTOMER_FEATURES.column("share_online"),
        CUSTOMER_FEATURES.column("share_store"),
        CUSTOMER_FEATURES.column("share_phone"),
        CUSTOMER_FEATURES.column("preferred_channel"),
        CUSTOMER_FEATURES.column("top_category"),
        CUSTOMER_FEATURES.column("top_brand"),
        CUSTOMER_FEATURES.column("brand_concentration"),
        CUSTOMER_FEATURES.column("discount_share"),
        CUSTOMER_FEATURES.column("occasion_share"),
        CUSTOMER_FEATURES.column("return_rate"),
        CUSTOMER_FEATURES.column("cancel_rate"),
        CUSTOMER_FEATURES.column("late_payment_share"),
        CUSTOMER_FEATURES.column("mean_days_late"),
        CUSTOMER_FEATURES.column("service_contacts"),
        CUSTOMER_FEATURES.column("mean_effort_score"),
        CUSTOMER_FEATURES.column("total_effort"),
        CUSTOMER_FEATURES.column("cost_to_serve"),
        CUSTOMER_FEATURES.column("unresolved_tickets"),
        CUSTOMER_FEATURES.column("social_followers"),
        CUSTOMER_FEATURES.column("social_platforms"),
        CUSTOMER_FEATURES.column("engagement_rate"),
        CUSTOMER_FEATURES.column("brand_mentions_90d"),
        CUSTOMER_FEATURES.column("influence_tier"),
        CUSTOMER_FEATURES.column("discovery_channel"),
        CUSTOMER_FEATURES.column("main_motivation"),
        CUSTOMER_FEATURES.column("main_barrier"),
        CUSTOMER_FEATURES.column("importance_price"),
        CUSTOMER_FEATURES.column("importance_brand"),
        CUSTOMER_FEATURES.column("importance_reviews"),
        CUSTOMER_FEATURES.column("importance_features"),
        CUSTOMER_FEATURES.column("importance_service"),
        CUSTOMER_FEATURES.column("brand_perception"),
        CUSTOMER_FEATURES.column("satisfaction"),
        CUSTOMER_FEATURES.column("nps"),
        CUSTOMER_FEATURES.column("survey_count"),
        CUSTOMER_FEATURES.column("age"),
        CUSTOMER_FEATURES.column("gender"),
        CUSTOMER_FEATURES.column("city"),
        CUSTOMER_FEATURES.column("region"),
        CUSTOMER_FEATURES.column("country"),
        CUSTOMER_FEATURES.column("income_band"),
        CUSTOMER_FEATURES.column("profession"),
        CUSTOMER_FEATURES.column("web_savviness"),
        CUSTOMER_FEATURES.column("acquisition_channel"),
        CUSTOMER_FEATURES.column("signup_date"),
        CLV_PREDICTIONS.column("expected_orders_3m", nullable=True),
        CLV_PREDICTIONS.column("expected_order_value", nullable=True),
        CLV_PREDICTIONS.column("expected_margin_per_order", nullable=True),
        CLV_PREDICTIONS.column("margin_rate", nullable=True),
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


WRITTEN_TABLES: dict[str, TableContract] = {
    c.table: c
    for c in (
        CUSTOMER_ORDERS, CUSTOMER_FEATURES, RFM_SCORES, CUSTOMER_CLASSES, CLV_PREDICTIONS, CUSTOMER_SEGMENTS,
        CLV_MODEL_PARAMS, SEGMENTS, SEGMENT_CLAIMS, SEGMENT_HISTORY, SEGMENT_MIGRATIONS, RFM_SEGMENTS,
        CUSTOMER_PROFILE, DATA_QUALITY, SERVICE_QUEUE,
    )
}  # fmt: skip

# The BI contract: per published mart, the columns a dashboard may rely on.
GUARANTEED = {c.name: c.guaranteed for c in WRITTEN_TABLES.values() if c.schema == "marts" and c.guaranteed}

CONSUMERS = [
    # The CLV stage reads margin only when the value basis is margin, i.e. when every cost is known
    # (features/value_basis.py): a null margin is expected in a cost-less export.
    Consumer(
        "clv_models",
        CUSTOMER_ORDERS,
        {"customer_id": False, "order_date": False, "revenue": False, "margin": True},
    ),
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
]
