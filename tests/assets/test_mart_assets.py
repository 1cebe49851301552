"""The marts assets (customer profile, segment marts and economics, claims, history, RFM segments,
service queue) on a hand-written shop: 20 weekly store buyers with service tickets, 20 one-off
online buyers without any, one prospect (tests/assets/rows.py: stage_shop; built by the
`shop_dir` fixture of tests/assets/conftest.py)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from tests.assets.rows import AS_OF
from tests.claim_check import check_published_claims

WEEKLY_REVENUE = sum(8 * (200.0 + n) for n in range(20))  # 33,520
ONEOFF_REVENUE = sum(15.0 + n % 4 for n in range(20))  # 330


@pytest.fixture(scope="module")
def shop(shop_dir):
    with duckdb.connect(str(shop_dir / "warehouse.duckdb"), read_only=True) as conn:
        yield conn


def profile(conn, customer_id: str) -> dict:
    return (
        conn.execute("SELECT * FROM marts.customer_profile WHERE customer_id = ?", [customer_id])
        .pl()
        .row(0, named=True)
    )


def test_the_profile_holds_each_customers_hand_computed_orders_and_service(shop):
    weekly = profile(shop, "weekly1")
    # 8 store orders of 201, the last on 2025-06-27 (3 days before the analysis date).
    assert (weekly["frequency"], weekly["monetary"], weekly["avg_order_value"], weekly["recency_days"]) == (
        8, 1608.0, 201.0, 3,
    )  # fmt: skip
    assert (weekly["preferred_channel"], weekly["share_store"]) == ("store", 1.0)
    # Tickets of effort 2 (resolved) and 4 (resolved = false): 2 contacts, mean 3, 6 points x 2.0.
    assert (
        weekly["service_contacts"], weekly["mean_effort_score"], weekly["total_effort"],
        weekly["cost_to_serve"], weekly["unresolved_tickets"],
    ) == (2, 3.0, 6, 12.0, 1)  # fmt: skip
    oneoff = profile(shop, "oneoff2")
    assert (oneoff["frequency"], oneoff["monetary"], oneoff["recency_days"]) == (1, 17.0, 392)
    # The service source is there but says nothing of this customer: no contact, and a mean of
    # nothing is unknown, not 0.
    assert (oneoff["service_contacts"], oneoff["mean_effort_score"]) == (0, None)
    assert oneoff["risk_class"] == "low"  # every line paid on time (0 days late)


def test_a_prospect_is_in_the_profile_in_segment_0_with_unknown_risk(shop):
    prospect = profile(shop, "p1")
    assert (prospect["frequency"], prospect["segment_id"], prospect["rfm_segment"]) == (0, 0, "Prospect")
    assert (prospect["risk_class"], prospect["lifecycle_stage"], prospect["recency_days"]) == (
        "unknown", "prospect", None,
    )  # fmt: skip
    assert prospect["mean_effort_score"] is None and prospect["avg_order_value"] is None
    assert shop.sql(
        "SELECT count(*), count(DISTINCT customer_id) FROM marts.customer_profile"
    ).fetchall() == [(41, 41)]


def test_each_group_is_one_segment_with_its_revenue_and_service_economics(shop):
    rows = shop.execute(
        """SELECT p.grp, s.customers, s.revenue, s.revenue_share, s.service_tickets, s.total_service_effort,
                  s.cost_to_serve, s.mean_effort_score, s.expected_cost_to_serve_12m, s.roi, s.service_priority
           FROM marts.segments s
           JOIN (SELECT DISTINCT segment_id, regexp_extract(customer_id, '^[a-z]+') AS grp
                 FROM marts.customer_profile) p USING (segment_id)
           ORDER BY p.grp"""
    ).fetchall()
    total = WEEKLY_REVENUE + ONEOFF_REVENUE
    assert [r[0] for r in rows] == ["oneoff", "p", "weekly"]  # one segment per group
    oneoff, prospect, weekly = rows
    assert oneoff[1:9] == (
        20,
        ONEOFF_REVENUE,
        pytest.approx(ONEOFF_REVENUE / total),
        0.0,
        0.0,
        0.0,
        None,
        0.0,
    )
    assert prospect[1:3] == (1, 0.0)
    # 40 tickets, 120 effort points at 2.0 each; under a year of tenure, 2 tickets a year each:
    # 20 x 2 x mean effort 3 x 2.0 = 240 expected over 12 months.
    assert weekly[1:9] == (
        20, WEEKLY_REVENUE, pytest.approx(WEEKLY_REVENUE / total), 40.0, 120.0, 240.0, 3.0, pytest.approx(240.0),
    )  # fmt: skip
    # Too few repeat buyers for a CLV: no value, so no ROI and no service priority, for anyone.
    assert {(r[9], r[10]) for r in rows} == {(None, None)}


def test_every_claim_a_persona_states_holds_for_its_segments_customers(shop):
    assert check_published_claims(shop, schema="marts.") > 3
    claims = shop.execute(
        """SELECT regexp_extract(p.customer_id, '^[a-z]+'), list(DISTINCT c.claim)
           FROM marts.segment_claims c JOIN marts.customer_profile p USING (segment_id) GROUP BY 1"""
    ).fetchall()
    claims = {group: set(keys) for group, keys in claims}
    assert {"buys_in_store", "repeat_buyer", "frequent"} <= claims["weekly"]
    assert {"buys_online", "one_order", "lapsed", "no_service_need"} <= claims["oneoff"]
    assert "no_service_need" not in claims["weekly"] and "buys_in_store" not in claims["oneoff"]


def test_a_first_run_records_every_customer_in_the_history_and_as_an_arrival(shop):
    assert shop.execute(
        "SELECT count(*), count(DISTINCT customer_id), min(as_of_date), max(as_of_date) FROM marts.segment_history"
    ).fetchall() == [(41, 41, AS_OF, AS_OF)]
    arrivals = shop.execute(
        """SELECT kind, count(*) FILTER (WHERE from_segment IS NOT NULL), sum(customers), sum(revenue)
           FROM marts.segment_migrations WHERE as_of_date = ? GROUP BY kind ORDER BY kind""",
        [AS_OF],
    ).fetchall()
    revenue = WEEKLY_REVENUE + ONEOFF_REVENUE
    assert arrivals == [("rfm", 0, 41, revenue), ("segment", 0, 41, revenue)]


def test_rfm_segments_count_every_customer_once(shop):
    rows = shop.execute("SELECT rfm_segment, customers, revenue, share FROM marts.rfm_segments").fetchall()
    assert len(rows) == 12 and sum(r[1] for r in rows) == 41
    assert sum(r[2] for r in rows) == WEEKLY_REVENUE + ONEOFF_REVENUE
    assert sum(r[3] for r in rows) == pytest.approx(1.0)
    assert ("Prospect", 1, 0.0) in [r[:3] for r in rows]


def test_the_service_queue_holds_the_open_tickets_oldest_first_when_no_value_is_known(shop):
    queue = shop.execute(
        "SELECT rank, ticket_id, customer_id, days_open, effort_so_far, value_at_stake FROM marts.service_queue "
        "ORDER BY rank"
    ).fetchall()
    # Resolved tickets (a*) are not in it; no resolution on record (even n) is still open.
    # Equal effort and no CLV: the oldest first.
    assert [r[1] for r in queue] == [f"b{n}" for n in range(20)]
    assert [r[0] for r in queue] == list(range(1, 21))
    first = queue[0]
    assert first[2:] == ("weekly0", (AS_OF - dt.date(2025, 6, 1)).days, 4, None)
