"""Customer features on a small hand-made data set whose answers were computed by hand.

As of 2024-06-30. Products: P1 shoes/Acme cost 4, P2 bags/Zeta cost 10, P3 hats/Acme cost 1.
Customers: A (full record), B (no orders: prospect), C (signed up after as_of: excluded),
D (no signup date), E (only a returned order: prospect); U orders without a customer record.

Every check runs on the asset's path (features.build.build_feature_tables, the `build` fixture): the
rows are loaded into a DuckDB staging schema, DuckDB aggregates the order lines
(staging.reads.read_order_facts) and Polars computes the features, as in production.
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import polars as pl
import pytest

from segmentation_pipeline.contracts import SOURCES
from segmentation_pipeline.contracts.tables import CUSTOMER_FEATURES as CUSTOMER_FEATURES_CONTRACT
from segmentation_pipeline.features.build import CUSTOMER_FEATURES, CUSTOMER_ORDERS, build_feature_tables
from segmentation_pipeline.staging.reads import read_staging
from segmentation_pipeline.staging.tables import ensure_source_tables, staging_table
from segmentation_pipeline.warehouse.tables import ensure_schemas

AS_OF = date(2024, 6, 30)


def typed(source: str, rows: list[dict]) -> pl.LazyFrame:
    """Rows typed as the contract says; columns a row leaves out are null."""
    schema = SOURCES[source].columns
    return pl.DataFrame([{c: row.get(c) for c in schema} for row in rows], schema=schema, orient="row").lazy()


def line(
    order, n, customer, at, channel, product, qty, price, status, discount=None, occasion="none", late=0
):
    return {
        "order_id": order,
        "line_number": n,
        "customer_id": customer,
        "ordered_at": at,
        "channel": channel,
        "product_id": product,
        "quantity": qty,
        "unit_price": price,
        "discount": discount,
        "status": status,
        "occasion": occasion,
        "payment_days_late": late,
    }


PRODUCTS = [
    {
        "product_id": "P1",
        "category": "shoes",
        "brand": "Acme",
        "unit_cost": 4.0,
        "updated_at": datetime(2024, 1, 1),
    },
    {
        "product_id": "P2",
        "category": "bags",
        "brand": "Zeta",
        "unit_cost": 10.0,
        "updated_at": datetime(2024, 1, 1),
    },
    {
        "product_id": "P3",
        "category": "hats",
        "brand": "Acme",
        "unit_cost": 1.0,
        "updated_at": datetime(2024, 1, 1),
    },
]
CUSTOMERS = [
    {
        "customer_id": "A",
        "email": "ann@example.com",
        "full_name": "Ann Example",
        "birth_year": 1990,
        "gender": "female",
        "city": "Lyon",
        "region": "ARA",
        "country": "FR",
        "income_band": "40k_70k",
        "profession": "engineer",
        "web_savviness": "high",
        "acquisition_channel": "search",
        "signup_date": date(2023, 1, 1),
        "updated_at": datetime(2024, 1, 1),
    },
    {
        "customer_id": "B",
        "birth_year": 1985,
        "signup_date": date(2024, 1, 15),
        "updated_at": datetime(2024, 1, 15),
    },
    {"customer_id": "C", "signup_date": date(2024, 8, 1), "updated_at": datetime(2024, 8, 1)},
    {"customer_id": "D", "signup_date": None, "updated_at": datetime(2024, 1, 1)},
    {"customer_id": "E", "signup_date": date(2024, 3, 1), "updated_at": datetime(2024, 3, 1)},
]
ORDERS = [
    # A, o1: 2 x 10 - 2 = 18 revenue (cost 8, margin 10); the returned P2 line adds nothing.
    line("o1", 1, "A", datetime(2024, 1, 10, 10), "online", "P1", 2, 10.0, "completed", discount=2.0),
    line("o1", 2, "A", datetime(2024, 1, 10, 10), "online", "P2", 1, 30.0, "returned", discount=1.0),
    # A, o2 (store, gift, paid 10 days late): 5 revenue, margin 4.
    line("o2", 1, "A", datetime(2024, 3, 1, 9), "store", "P3", 1, 5.0, "completed", occasion="gift", late=10),
    # A, o3 the same day online: 40 - 4 = 36 revenue, margin 26.
    line("o3", 1, "A", datetime(2024, 3, 1, 18), "online", "P2", 1, 40.0, "completed", discount=4.0),
    # A, o4 only cancelled: not counted. o5 after as_of: ignored.
    line("o4", 1, "A", datetime(2024, 5, 31), "online", "P1", 1, 10.0, "cancelled"),
    line("o5", 1, "A", datetime(2024, 7, 5), "online", "P1", 5, 100.0, "completed", late=90),
    # D: o6 late on the analysis day with an unknown product (no cost: margin unknown); o7 margin 6.
    line(
        "o6",
        1,
        "D",
        datetime(2024, 6, 30, 23, 59),
        "phone",
        "P9",
        1,
        20.0,
        "completed",
        occasion=None,
        late=None,
    ),
    line("o7", 1, "D", datetime(2024, 6, 1), "phone", "P1", 1, 10.0, "completed"),
    # U is not in the customer master; E only returned.
    line("o8", 1, "U", datetime(2024, 2, 1), "online", "P1", 1, 10.0, "completed"),
    line("o9", 1, "E", datetime(2024, 4, 1), "online", "P1", 1, 10.0, "returned"),
]
SURVEYS = [  # deliberately not in submission order
    {
        "response_id": "r2",
        "customer_id": "A",
        "submitted_at": datetime(2024, 5, 1),
        "main_motivation": "quality",
        "discovery_channel": "search",
        "importance_price": 2,
        "satisfaction": 8,
        "nps": 9,
        "comment": "lovely",
    },
    # Submitted at the same instant as r2: the greater response_id (r2) is taken as the latest.
    {"response_id": "r0", "customer_id": "A", "submitted_at": datetime(2024, 5, 1), "nps": 4},
    {
        "response_id": "r1",
        "customer_id": "A",
        "submitted_at": datetime(2024, 2, 1),
        "main_motivation": "price",
        "nps": 3,
    },
    {"response_id": "r3", "customer_id": "A", "submitted_at": datetime(2024, 7, 10), "nps": 0},  # after as_of
    {"response_id": "r4", "customer_id": None, "submitted_at": datetime(2024, 6, 1), "nps": 1},  # anonymous
    {"response_id": "r5", "customer_id": "B", "submitted_at": datetime(2024, 3, 3), "nps": 7},
]


def social_row(customer, platform, followers, at, rate=None, mentions=None):
    return {
        "customer_id": customer,
        "platform": platform,
        "handle": f"@{customer}",
        "followers": followers,
        "engagement_rate": rate,
        "brand_mentions_90d": mentions,
        "observed_at": at,
    }


SOCIAL = [
    social_row("A", "instagram", 500, datetime(2024, 1, 1), 0.10, 7),
    social_row("A", "instagram", 800, datetime(2024, 6, 1), 0.05, 2),  # latest instagram
    social_row("A", "x", 200, datetime(2024, 6, 15), 0.20, 3),
    social_row("A", "x", 5000, datetime(2024, 7, 15), 0.90, 50),  # after as_of
    social_row("D", "tiktok", 150_000, datetime(2024, 5, 1), 0.01, 0),
]
SERVICE = [
    {
        "ticket_id": "t1",
        "customer_id": "A",
        "opened_at": datetime(2024, 2, 1),
        "effort_score": 4,
        "resolved": True,
    },
    {
        "ticket_id": "t2",
        "customer_id": "A",
        "opened_at": datetime(2024, 3, 1),
        "effort_score": 8,
        "resolved": None,
    },
    {"ticket_id": "t3", "customer_id": "A", "opened_at": datetime(2024, 7, 1), "effort_score": 10},  # after
    {
        "ticket_id": "t4",
        "customer_id": "D",
        "opened_at": datetime(2024, 6, 2),
        "effort_score": 5,
        "resolved": False,
    },
]


def sources(**overrides) -> dict:
    frames = {
        "customers": typed("customers", CUSTOMERS),
        "orders": typed("orders", ORDERS),
        "products": typed("products", PRODUCTS),
        "surveys": typed("surveys", SURVEYS),
        "social": typed("social", SOCIAL),
        "service": typed("service", SERVICE),
    }
    return {**frames, **overrides}


def staged(frames: dict[str, pl.LazyFrame | None]) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse whose staging tables hold `frames` (None: the source never delivered)."""
    conn = duckdb.connect()
    ensure_schemas(conn)
    for name, frame in frames.items():
        if frame is None:
            continue
        ensure_source_tables(conn, SOURCES[name])
        rows = frame.collect().with_columns(
            _source_file=pl.lit(f"{name}_2024-06-30.csv"),
            _row_number=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
            _landing_date=pl.lit(date(2024, 6, 30)),
            _loaded_at=pl.lit(datetime(2024, 6, 30, 12)),
        )
        conn.register("_rows", rows)
        conn.execute(f"INSERT INTO {staging_table(name)} BY NAME SELECT * FROM _rows")
        conn.unregister("_rows")
    return conn


def warehouse_tables(
    *,
    customers: pl.LazyFrame | None,
    orders: pl.LazyFrame,
    products: pl.LazyFrame | None,
    surveys: pl.LazyFrame | None,
    social: pl.LazyFrame | None,
    service: pl.LazyFrame | None,
    as_of: date,
    cost_per_effort_point: float = 2.0,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Counted orders and features as the asset computes them, read back from the warehouse."""
    frames = {"customers": customers, "orders": orders, "products": products}
    conn = staged({**frames, "surveys": surveys, "social": social, "service": service})
    with conn:
        built = build_feature_tables(conn, as_of, cost_per_effort_point)
        orders = conn.sql(f"SELECT * FROM {CUSTOMER_ORDERS}").pl()
        features = conn.sql(f"SELECT * FROM {CUSTOMER_FEATURES} ORDER BY customer_id").pl()
    assert (built.mode, built.reason) == ("full", "no previous build")
    assert (built.customers_recomputed, built.counted_orders_recomputed) == (features.height, orders.height)
    return orders, features


def warehouse_features(**kwargs) -> pl.DataFrame:
    return warehouse_tables(**kwargs)[1]


@pytest.fixture(scope="module")
def build():
    """The asset's path through a DuckDB warehouse: features from source frames."""
    return warehouse_features


@pytest.fixture(scope="module")
def features(build) -> pl.DataFrame:
    return build(**sources(), as_of=AS_OF)


def row(features: pl.DataFrame, customer_id: str) -> dict:
    rows = features.filter(pl.col("customer_id") == customer_id).to_dicts()
    assert len(rows) == 1, f"{customer_id}: {len(rows)} rows"
    return rows[0]


@pytest.fixture(scope="module")
def count_orders():
    """The asset's counted orders (features.customer_orders) of (orders, products, as_of)."""

    def via_warehouse(orders, products, as_of):
        empty = {name: None for name in ("customers", "surveys", "social", "service")}
        return warehouse_tables(orders=orders, products=products, as_of=as_of, **empty)[0]

    return via_warehouse


def test_counted_orders_revenue_margin_and_exclusions(count_orders):
    got = count_orders(typed("orders", ORDERS), typed("products", PRODUCTS), AS_OF).sort("order_id")
    assert got["order_id"].to_list() == [
        "o1",
        "o2",
        "o3",
        "o6",
        "o7",
        "o8",
    ]  # o4 cancelled, o5 late, o9 returned
    by_id = {r["order_id"]: r for r in got.to_dicts()}
    assert by_id["o1"] == {
        "customer_id": "A",
        "order_id": "o1",
        "ordered_at": datetime(2024, 1, 10, 10),
        "order_date": date(2024, 1, 10),
        "channel": "online",
        "revenue": 18.0,
        "margin": 10.0,
        "gross": 20.0,
        "discount": 2.0,
        "is_occasion": False,
        "n_lines": 2,
    }
    assert (by_id["o2"]["revenue"], by_id["o2"]["margin"], by_id["o2"]["is_occasion"]) == (5.0, 4.0, True)
    assert (by_id["o3"]["revenue"], by_id["o3"]["margin"]) == (36.0, 26.0)
    assert by_id["o6"]["revenue"] == 20.0 and by_id["o6"]["margin"] is None  # unknown product cost
    assert by_id["o6"]["order_date"] == AS_OF  # 23:59 on the analysis day still counts


def test_counted_orders_without_products_has_unknown_margin(count_orders):
    got = count_orders(typed("orders", ORDERS), None, AS_OF)
    assert got["margin"].null_count() == got.height
    assert got["revenue"].sum() == pytest.approx(18 + 5 + 36 + 20 + 10 + 10)


def test_universe_known_unknown_prospects_and_late_signups(features):
    assert features["customer_id"].to_list() == ["A", "B", "D", "E", "U"]  # C signed up after as_of
    assert features["as_of_date"].unique().to_list() == [AS_OF]
    known = dict(zip(features["customer_id"], features["is_known_customer"], strict=True))
    assert known == {"A": True, "B": True, "D": True, "E": True, "U": False}


def test_recency_frequency_monetary_margin(features):
    a = row(features, "A")
    assert a["frequency"] == 3  # o1, o2, o3
    assert a["purchase_days"] == 2  # Jan 10 and Mar 1
    assert a["monetary"] == pytest.approx(59.0)  # 18 + 5 + 36
    assert a["margin"] == pytest.approx(40.0)  # 10 + 4 + 26
    assert a["avg_order_value"] == pytest.approx(59 / 3)
    assert (a["first_order_date"], a["last_order_date"]) == (date(2024, 1, 10), date(2024, 3, 1))
    assert a["recency_days"] == 121  # Mar 1 -> Jun 30: 30 + 30 + 31 + 30
    assert a["tenure_days"] == 546  # 2023-01-01 -> 2024-06-30: 365 + 181
    assert a["mean_days_between_orders"] == pytest.approx(51.0)  # Jan 10 -> Mar 1 over 1 gap

    d = row(features, "D")
    assert (d["frequency"], d["recency_days"], d["monetary"]) == (2, 0, 30.0)
    assert d["margin"] == pytest.approx(6.0)  # o6 cannot be costed: only o7's margin is known
    assert d["tenure_days"] == 29  # no signup date: from the first order, Jun 1
    assert d["mean_days_between_orders"] == pytest.approx(29.0)

    u = row(features, "U")
    assert (u["frequency"], u["monetary"], u["tenure_days"]) == (1, 10.0, 150)  # Feb 1 -> Jun 30
    assert u["mean_days_between_orders"] is None  # one purchase day


def test_prospects(features):
    b = row(features, "B")
    assert (b["frequency"], b["purchase_days"], b["monetary"], b["margin"]) == (0, 0, 0.0, 0.0)
    assert b["recency_days"] is None and b["avg_order_value"] is None and b["last_order_date"] is None
    assert b["tenure_days"] == 167  # Jan 15 -> Jun 30
    assert b["share_online"] is None and b["preferred_channel"] is None and b["top_brand"] is None
    # No payment on record for a prospect: unknown, not punctual.
    assert b["mean_days_late"] is None and b["late_payment_share"] is None and b["return_rate"] is None

    e = row(features, "E")  # its only order was returned: a prospect with a return rate
    assert (e["frequency"], e["monetary"], e["recency_days"]) == (0, 0.0, None)
    assert e["return_rate"] == 1.0 and e["cancel_rate"] == 0.0


def test_channels_categories_and_brands(features):
    a = row(features, "A")
    assert a["share_online"] == pytest.approx(2 / 3)  # o1, o3
    assert a["share_store"] == pytest.approx(1 / 3)
    assert a["share_phone"] == 0.0
    assert a["preferred_channel"] == "online"
    assert a["top_category"] == "bags"  # bags 36 > shoes 18 > hats 5
    assert a["top_brand"] == "Zeta"  # Zeta 36 > Acme 18 + 5
    assert a["brand_concentration"] == pytest.approx(36 / 59)

    d = row(features, "D")
    assert (d["preferred_channel"], d["share_phone"]) == ("phone", 1.0)
    # The unknown product has no category or brand, but its revenue is in the denominator.
    assert (d["top_category"], d["top_brand"]) == ("shoes", "Acme")
    assert d["brand_concentration"] == pytest.approx(10 / 30)


def test_discount_occasion_returns_cancellations_late_payment(features):
    a = row(features, "A")
    # Completed lines that record a discount only: the 5.0 line records none (unknown, not 0).
    assert a["discount_share"] == pytest.approx((2 + 4) / (20 + 40))
    assert a["occasion_share"] == pytest.approx(1 / 3)  # o2 was a gift
    assert a["return_rate"] == pytest.approx(1 / 4)  # 1 returned, 3 completed lines
    assert a["cancel_rate"] == pytest.approx(1 / 5)  # 1 cancelled of 5 lines up to as_of
    assert a["late_payment_share"] == pytest.approx(1 / 3)  # o2, 10 days late
    assert a["mean_days_late"] == pytest.approx(10.0)

    d = row(features, "D")  # null lateness is not lateness; no late order means 0 days
    # ...and a discount recorded on none of D's lines is unknown, not 0.
    assert (d["late_payment_share"], d["mean_days_late"], d["discount_share"]) == (0.0, 0.0, None)


def test_service_cost_to_serve(features, build):
    a = row(features, "A")  # t3 is after as_of
    assert (a["service_contacts"], a["total_effort"], a["mean_effort_score"]) == (2, 12, 6.0)
    assert a["cost_to_serve"] == pytest.approx(24.0)  # 12 points x 2.0
    assert a["unresolved_tickets"] == 1  # t2 has no recorded resolution
    d = row(features, "D")
    assert (d["service_contacts"], d["cost_to_serve"], d["unresolved_tickets"]) == (1, 10.0, 1)
    b = row(features, "B")
    assert (b["service_contacts"], b["total_effort"], b["cost_to_serve"]) == (0, 0, 0.0)
    assert b["mean_effort_score"] is None

    pricier = build(**sources(), as_of=AS_OF, cost_per_effort_point=5.0)
    assert row(pricier, "A")["cost_to_serve"] == pytest.approx(60.0)


def test_social_reach_and_influence_tier(features):
    a = row(features, "A")  # latest instagram (800) + x (200); the July x observation is ignored
    assert (a["social_followers"], a["social_platforms"]) == (1000, 2)
    assert a["engagement_rate"] == pytest.approx((800 * 0.05 + 200 * 0.20) / 1000)
    assert a["brand_mentions_90d"] == 5  # 2 + 3
    assert a["influence_tier"] == "micro"  # exactly 1,000
    assert row(features, "D")["influence_tier"] == "macro"
    b = row(features, "B")
    assert (b["social_followers"], b["social_platforms"], b["influence_tier"]) == (0, 0, "none")
    assert b["engagement_rate"] is None


@pytest.mark.parametrize(
    ("followers", "tier"),
    [
        (0, "none"),
        (1, "nano"),
        (999, "nano"),
        (1_000, "micro"),
        (9_999, "micro"),
        (10_000, "mid"),
        (100_000, "macro"),
    ],
)
def test_influence_tier_thresholds(followers, tier, build):
    social = typed("social", [social_row("A", "x", followers, datetime(2024, 6, 1))])
    got = build(**sources(social=social), as_of=AS_OF)
    assert row(got, "A")["influence_tier"] == tier


def test_latest_survey_answers(features):
    a = row(features, "A")  # r2 is the latest up to as_of; r3 is later; answers are not mixed
    assert (a["main_motivation"], a["nps"], a["satisfaction"], a["importance_price"]) == ("quality", 9, 8, 2)
    assert a["discovery_channel"] == "search" and a["main_barrier"] is None
    assert a["survey_count"] == 3  # r0, r1, r2
    assert (row(features, "B")["nps"], row(features, "B")["survey_count"]) == (7, 1)
    assert (row(features, "D")["nps"], row(features, "D")["survey_count"]) == (None, 0)


def test_demographics_and_age(features):
    a = row(features, "A")
    assert a["age"] == 34  # 2024 - 1990
    assert (a["gender"], a["city"], a["region"], a["country"]) == ("female", "Lyon", "ARA", "FR")
    assert (a["income_band"], a["profession"], a["web_savviness"]) == ("40k_70k", "engineer", "high")
    assert (a["acquisition_channel"], a["signup_date"]) == ("search", date(2023, 1, 1))
    u = row(features, "U")
    assert u["age"] is None and u["gender"] is None and u["signup_date"] is None


def test_columns_are_described_and_personal_data_absent(features):
    assert features.columns == CUSTOMER_FEATURES_CONTRACT.names
    assert all(c.description.strip() for c in CUSTOMER_FEATURES_CONTRACT.columns)
    for personal in ("email", "full_name", "handle", "comment"):
        assert personal not in features.columns
    text = str(features.to_dicts())
    assert "ann@example.com" not in text and "Ann Example" not in text and "lovely" not in text


def test_absent_optional_sources_give_null_columns(build):
    got = build(
        customers=None,
        orders=typed("orders", ORDERS),
        products=None,
        surveys=None,
        social=None,
        service=None,
        as_of=AS_OF,
    )
    assert got.columns == CUSTOMER_FEATURES_CONTRACT.names
    assert got["customer_id"].to_list() == ["A", "D", "E", "U"]  # the universe comes from orders
    assert not got["is_known_customer"].any()
    a = row(got, "A")
    assert (a["frequency"], a["monetary"], a["margin"]) == (3, 59.0, None)  # no costs: margin unknown
    assert a["top_brand"] is None and a["top_category"] is None and a["brand_concentration"] is None
    for column in (
        "service_contacts",
        "cost_to_serve",
        "social_followers",
        "influence_tier",
        "nps",
        "survey_count",
    ):
        assert got[column].null_count() == got.height, column
    assert a["tenure_days"] == 172  # no signup date: from the first order, Jan 10
    assert row(got, "E")["margin"] == 0.0  # a prospect has earned nothing


def test_empty_optional_sources_behave_like_absent_ones():
    # Staging tables that exist without a row (read_staging: a source that never delivered).
    empty = {name: typed(name, []) for name in ("customers", "products", "surveys", "social", "service")}
    got = warehouse_features(**sources(**empty), as_of=AS_OF)
    assert got["customer_id"].to_list() == ["A", "D", "E", "U"]
    assert row(got, "A")["service_contacts"] is None and row(got, "A")["influence_tier"] is None
    assert got.equals(warehouse_features(**sources(**dict.fromkeys(empty)), as_of=AS_OF))


def test_data_after_as_of_changes_nothing(features, build):
    late = datetime(2024, 7, 1)
    later = sources(
        orders=typed(
            "orders", [*ORDERS, line("o99", 1, "B", late, "store", "P2", 3, 50.0, "completed", late=5)]
        ),
        surveys=typed(
            "surveys", [*SURVEYS, {"response_id": "r99", "customer_id": "B", "submitted_at": late, "nps": 0}]
        ),
        social=typed("social", [*SOCIAL, social_row("B", "x", 10**6, late)]),
        service=typed(
            "service",
            [*SERVICE, {"ticket_id": "t99", "customer_id": "B", "opened_at": late, "effort_score": 9}],
        ),
        customers=typed(
            "customers", [*CUSTOMERS, {"customer_id": "Z", "signup_date": late.date(), "updated_at": late}]
        ),
    )
    assert build(**later, as_of=AS_OF).equals(features)


def test_as_of_earlier_drops_later_orders(build):
    got = build(**sources(), as_of=date(2024, 2, 15))
    a = row(got, "A")
    assert (a["frequency"], a["monetary"], a["recency_days"]) == (1, 18.0, 36)  # o1 only; Jan 10 -> Feb 15
    assert "D" in got["customer_id"].to_list()  # in the master (no signup date) but a prospect then
    assert row(got, "D")["frequency"] == 0


def test_ties_go_to_the_alphabetically_first_category_and_brand(build):
    # A spends 10 on shoes/Acme (P1) and 10 on bags/Zeta (P2): bags wins the category, Acme the brand.
    orders = typed(
        "orders",
        [
            line("t1", 1, "A", datetime(2024, 5, 1), "online", "P1", 1, 10.0, "completed"),
            line("t1", 2, "A", datetime(2024, 5, 1), "online", "P2", 1, 10.0, "completed"),
        ],
    )
    a = row(build(**sources(orders=orders), as_of=AS_OF), "A")
    assert (a["top_category"], a["top_brand"], a["brand_concentration"]) == ("bags", "Acme", 0.5)


def test_current_versions_of_customers_and_products():
    """Latest updated_at up to as_of wins; a tie goes to the later landing date (a dated file before an
    undated one), then to the later file and row."""
    versions = [
        ("A", datetime(2024, 1, 1), date(2024, 1, 1), "a.csv", 1, "Lyon"),
        ("A", datetime(2024, 3, 1), date(2024, 3, 1), "b.csv", 1, "Paris"),  # latest up to as_of
        ("A", datetime(2024, 7, 1), date(2024, 7, 1), "c.csv", 1, "Nice"),  # after as_of
        ("B", datetime(2024, 2, 1), None, "z.csv", 9, "Undated"),
        ("B", datetime(2024, 2, 1), date(2024, 2, 1), "a.csv", 1, "Dated"),  # dated beats undated
        ("D", datetime(2024, 2, 1), date(2024, 2, 1), "a.csv", 2, "Row 2"),
        ("D", datetime(2024, 2, 1), date(2024, 2, 1), "a.csv", 3, "Row 3"),  # later row
        ("D", datetime(2024, 2, 1), date(2024, 2, 1), "b.csv", 1, "File b"),  # later file
    ]
    conn = duckdb.connect()
    ensure_schemas(conn)
    ensure_source_tables(conn, SOURCES["customers"])
    for customer, updated, landed, file, number, city in versions:
        conn.execute(
            "INSERT INTO staging.customers (customer_id, updated_at, _landing_date, _source_file,"
            " _row_number, city, email, _loaded_at) VALUES (?, ?, ?, ?, ?, ?, 'x@example.com', now())",
            [customer, updated, landed, file, number, city],
        )
    got = read_staging(conn, "customers", AS_OF)
    assert dict(zip(got["customer_id"], got["city"], strict=True)) == {
        "A": "Paris",
        "B": "Dated",
        "D": "File b",
    }
    assert "email" not in got.columns


def test_the_order_lines_sql_codes_channels_as_their_position_in_order_channels():
    from segmentation_pipeline.features.inputs import ORDER_CHANNELS
    from segmentation_pipeline.warehouse.tables import read_sql

    codes = " ".join(f"WHEN '{c}' THEN {i}" for i, c in enumerate(ORDER_CHANNELS) if i > 0)
    assert f"CASE o.channel {codes} ELSE 0 END" in read_sql("features/order_lines")
