"""Customer classes (seed 003) on hand-made feature rows."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from segmentation_pipeline.models.classes.customer_classes import ClassThresholds, classify_customers

AS_OF = date(2024, 6, 30)
SCHEMA = {
    "customer_id": pl.String,
    "as_of_date": pl.Date,
    "recency_days": pl.Int32,
    "frequency": pl.Int32,
    "purchase_days": pl.Int32,
    "monetary": pl.Float64,
    "first_order_date": pl.Date,
    "tenure_days": pl.Int32,
    "return_rate": pl.Float64,
    "late_payment_share": pl.Float64,
    "mean_days_late": pl.Float64,
    "nps": pl.Int32,
}


def customer(customer_id: str, **values) -> dict:
    """An active repeat buyer with a clean record unless told otherwise."""
    base = {
        "customer_id": customer_id,
        "as_of_date": AS_OF,
        "recency_days": 30,
        "frequency": 2,
        "purchase_days": 2,
        "monetary": 50.0,
        "first_order_days_ago": 300,
        "tenure_days": 300,
        "return_rate": 0.0,
        "late_payment_share": 0.0,
        "mean_days_late": 0.0,
        "nps": None,
    }
    base.update(values)
    days_ago = base.pop("first_order_days_ago")
    base["first_order_date"] = None if days_ago is None else AS_OF - timedelta(days=days_ago)
    return base


def prospect(customer_id: str) -> dict:
    return customer(
        customer_id,
        recency_days=None,
        frequency=0,
        purchase_days=0,
        monetary=0.0,
        first_order_days_ago=None,
        late_payment_share=None,
        return_rate=None,
    )


def classify(rows: list[dict], **thresholds) -> dict[str, dict]:
    features = pl.DataFrame(rows, schema=SCHEMA)
    got = classify_customers(features, ClassThresholds(**thresholds))
    assert got.columns == ["customer_id", "lifecycle_stage", "risk_class", "volume_class", "loyalty_class"]
    assert got["customer_id"].to_list() == features["customer_id"].to_list()
    return {r.pop("customer_id"): r for r in got.to_dicts()}


def test_lifecycle_stages():
    got = classify(
        [
            prospect("prospect"),
            customer("lapsed", recency_days=400, frequency=9, purchase_days=9, tenure_days=1000, nps=10),
            customer("one_timer", recency_days=200, frequency=1, purchase_days=1, first_order_days_ago=200),
            customer(
                "fresh_repeat", recency_days=5, purchase_days=2, first_order_days_ago=30, tenure_days=30
            ),
            customer("loyal", frequency=6, purchase_days=6, first_order_days_ago=600, tenure_days=700),
            customer("regular", frequency=2, purchase_days=2),
            customer(
                "detractor", frequency=6, purchase_days=6, first_order_days_ago=600, tenure_days=700, nps=3
            ),
            customer("too_young", frequency=4, purchase_days=4, first_order_days_ago=100, tenure_days=120),
            customer("at_limit", recency_days=365, frequency=3, purchase_days=3, tenure_days=400),
            # Signed up long ago but first bought 30 days ago: too early to call loyal.
            customer("late_starter", frequency=4, purchase_days=4, first_order_days_ago=30, tenure_days=700),
        ]
    )
    stages = {cid: r["lifecycle_stage"] for cid, r in got.items()}
    assert stages == {
        "prospect": "prospect",
        "lapsed": "lapsed",  # over 365 days since the last order, however good before
        "one_timer": "new",  # no second purchase day yet
        "fresh_repeat": "new",  # first order 30 days ago (<= 90)
        "loyal": "loyal",  # 6 purchase days, 700 days of tenure, unknown NPS
        "regular": "regular",  # active, repeats, but only 2 purchase days
        "detractor": "regular",  # would be loyal but NPS 3 (a detractor)
        "too_young": "regular",  # 4 purchase days but only 120 days of tenure
        "at_limit": "loyal",  # exactly 365 days: not yet lapsed
        "late_starter": "new",
    }
    loyalty = {cid: r["loyalty_class"] for cid, r in got.items()}
    assert [cid for cid, v in loyalty.items() if v == "high"] == ["loyal", "at_limit"]


def test_lifecycle_thresholds_are_tunable():
    rows = [customer("a", recency_days=200, frequency=3, purchase_days=3, tenure_days=400)]
    assert classify(rows)["a"]["lifecycle_stage"] == "loyal"
    assert classify(rows, lapsed_after_days=180)["a"]["lifecycle_stage"] == "lapsed"
    assert classify(rows, loyal_min_purchase_days=4)["a"]["lifecycle_stage"] == "regular"


def test_risk_from_payment_history():
    got = classify(
        [
            prospect("prospect"),
            customer("clean"),
            customer("often_late", late_payment_share=0.5, mean_days_late=10.0),
            customer("often_slightly_late", late_payment_share=0.5, mean_days_late=3.0),
            customer("rarely_late", late_payment_share=0.2, mean_days_late=10.0),
            customer("once_very_late", late_payment_share=0.1, mean_days_late=45.0),
            customer("at_share_limit", late_payment_share=0.25, mean_days_late=5.0),
            customer("serial_returner", return_rate=0.8),
        ]
    )
    high = [cid for cid, r in got.items() if r["risk_class"] == "high"]
    assert high == ["often_late", "once_very_late", "at_share_limit"]
    assert got["prospect"]["risk_class"] == "unknown" and got["clean"]["risk_class"] == "low"
    # No payment on record (no payment_days_late in the export): unknown, whatever else is known.
    unrecorded = classify([customer("no_payment_data", late_payment_share=None, mean_days_late=None)])
    assert unrecorded["no_payment_data"]["risk_class"] == "unknown"
    with_returns = classify([customer("serial_returner", return_rate=0.8)], high_risk_return_rate=0.5)
    assert with_returns["serial_returner"]["risk_class"] == "high"


def test_volume_relative_to_quantile():
    buyers = [customer(f"b{i}", monetary=10.0 * i, frequency=i) for i in range(1, 11)]
    got = classify([*buyers, prospect("prospect")])
    # 0.8 quantile of 10..100 (linear) = 82: only 90 and 100 are high volume; prospects are low.
    assert [cid for cid, r in got.items() if r["volume_class"] == "high"] == ["b9", "b10"]
    by_frequency = classify(
        [*buyers, prospect("prospect")], volume_metric="frequency", high_volume_quantile=0.5
    )
    assert [cid for cid, r in by_frequency.items() if r["volume_class"] == "high"] == [
        "b6",
        "b7",
        "b8",
        "b9",
        "b10",
    ]


def test_only_prospects_and_empty_frames():
    got = classify([prospect("p1"), prospect("p2")])
    # No payment history at all: risk unknown, not low.
    assert {tuple(r.values()) for r in got.values()} == {("prospect", "unknown", "low", "low")}
    assert classify([]) == {}
