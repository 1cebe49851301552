"""Contracts of the segment marts: segments and personas, their claims, history, migrations, RFM summary."""

from __future__ import annotations

from .base import Column, TableContract

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
        Column(
            "share",
            "DOUBLE",
            "Share of all customers (the shares sum to 1); null in every row when there is no customer.",
            guaranteed=True,
            nullable=True,
        ),
    ),
)
