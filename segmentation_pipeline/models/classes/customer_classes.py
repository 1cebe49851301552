"""Customer classes of seed 003: lifecycle (prospect, new, regular, loyal, lapsed), risk, volume, loyalty.

Pure Polars, no Dagster. Input: the customer features frame. The seed names regular customers,
prospects, high/low risk (payment history: "antecedents financiers douteux" versus "fiables en
termes de reglement financier a temps"), high/low purchase volume and high/low loyalty
(recurring purchases, likely to stay). Every rule is a threshold of ClassThresholds, so the
business can tune them without touching code.

Lifecycle stages are checked in this fixed order, first match wins:
    prospect  no counted order
    lapsed    last counted order more than `lapsed_after_days` ago
    new       a single purchase day so far, or first order within `new_within_days`
    loyal     loyalty_class is high: at least `loyal_min_purchase_days` purchase days, tenure of
              `loyal_min_tenure_days`, and not an NPS detractor where the NPS is known
    regular   every other active repeat buyer

Risk (payment history): unknown without one (a prospect, or no payment_days_late on any of the
customer's counted orders: real exports rarely carry it); otherwise high when at least `high_risk_late_share` of counted orders were paid
late by `high_risk_min_days_late` days on average, or by `high_risk_severe_days_late` on average
whatever the share; optionally (off by default) a return rate of `high_risk_return_rate`.
Volume: high at or above the `high_volume_quantile` of buying customers' `volume_metric`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl


@dataclass(frozen=True)
class ClassThresholds:
    """Thresholds of the customer classes; defaults and their reasons below."""

    lapsed_after_days: int = 365
    """A full seasonal cycle: once-a-year (gift, holiday) buyers are not lapsed until they miss one."""

    new_within_days: int = 90
    """A quarter: long enough for a second purchase, short enough for onboarding campaigns."""

    loyal_min_purchase_days: int = 3
    """At least two repeat purchases on different days: one repeat can be chance, two is a habit."""

    loyal_min_tenure_days: int = 180
    """Half a year of relationship before calling it loyalty (excludes bursts of early purchases)."""

    loyal_min_nps: int = 7
    """NPS detractors (0-6) who keep buying are captive, not loyal; unknown NPS does not count against."""

    high_risk_late_share: float = 0.25
    """Late payment on at least one counted order in four is a pattern, not an accident..."""

    high_risk_min_days_late: float = 5.0
    """...provided those orders are late by more than a few days on average (bank/processing delays)."""

    high_risk_severe_days_late: float = 30.0
    """A month late on average is high risk whatever the share: a full billing cycle unpaid."""

    high_risk_return_rate: float | None = None
    """Off by default: the seed defines risk by payment history; set e.g. 0.5 to add serial returners."""

    volume_metric: Literal["monetary", "frequency"] = "monetary"
    """Revenue measures purchase volume in money (what makes a customer valuable to the seed)."""

    high_volume_quantile: float = 0.8
    """Top 20% of buying customers: the Pareto head that usually carries most of the revenue."""


def classify_customers(
    features: pl.DataFrame, thresholds: ClassThresholds = ClassThresholds()
) -> pl.DataFrame:
    """customer_id, lifecycle_stage, risk_class, volume_class, loyalty_class for every customer.

    Prospects and customers without any payment on record have no payment history: risk_class
    unknown (low would claim a punctuality nobody saw). Prospects' volume and loyalty are low.
    """
    t = thresholds
    buyer = pl.col("frequency") > 0
    active = buyer & (pl.col("recency_days") <= t.lapsed_after_days)

    risky = (
        (pl.col("late_payment_share") >= t.high_risk_late_share)
        & (pl.col("mean_days_late") >= t.high_risk_min_days_late)
    ) | (pl.col("mean_days_late") >= t.high_risk_severe_days_late)
    if t.high_risk_return_rate is not None:
        risky = risky | (pl.col("return_rate") >= t.high_risk_return_rate)

    volume = pl.col(t.volume_metric)
    volume_floor = features.filter(buyer).select(volume.quantile(t.high_volume_quantile, "linear")).item()
    high_volume = (
        buyer & (volume > 0) & (volume >= volume_floor) if volume_floor is not None else pl.lit(False)
    )

    since_first = (pl.col("as_of_date") - pl.col("first_order_date")).dt.total_days()
    new = (pl.col("purchase_days") <= 1) | (since_first <= t.new_within_days)
    # Loyalty is judged on settled, current customers only, so loyalty_class is high exactly
    # when lifecycle_stage is loyal.
    loyal = (
        active
        & ~new
        & (pl.col("purchase_days") >= t.loyal_min_purchase_days)
        & (pl.col("tenure_days") >= t.loyal_min_tenure_days)
        & (pl.col("nps").is_null() | (pl.col("nps") >= t.loyal_min_nps))
    )

    def high_low(condition: pl.Expr) -> pl.Expr:
        return pl.when(condition.fill_null(False)).then(pl.lit("high")).otherwise(pl.lit("low"))

    return features.select(
        "customer_id",
        lifecycle_stage=pl.when(~buyer)
        .then(pl.lit("prospect"))
        .when(~active)
        .then(pl.lit("lapsed"))
        .when(new)
        .then(pl.lit("new"))
        .when(loyal)
        .then(pl.lit("loyal"))
        .otherwise(pl.lit("regular")),
        risk_class=pl.when(buyer & risky.fill_null(False))
        .then(pl.lit("high"))
        .when(~buyer | pl.col("late_payment_share").is_null())
        .then(pl.lit("unknown"))
        .otherwise(pl.lit("low")),
        volume_class=high_low(high_volume),
        loyalty_class=high_low(loyal),
    )
