"""Which money measures a customer's value this run: margin where every cost is known, else revenue.

Real exports rarely carry unit costs. A margin summed over the orders that happen to be costed
would rank a customer whose products lack a cost below one whose products have one, for no reason
the customer controls; mixing margin for some customers and revenue for others would make RFM's M,
CLV and ROI incomparable across customers. So one basis holds for the whole run:

- "margin" when margin is preferred (SEGMENTATION_RFM_MONETARY, default) and every counted order up
  to the analysis date has a known margin (every completed line's product has a unit cost);
- "revenue" otherwise, with the share of revenue that could be costed, so that the metadata and
  the report can say why (e.g. "costs known for 98.7% of revenue: 3 products lack a unit cost").

Margins are never invented: with the revenue basis the margin columns keep what is known (null
where nothing is), and an estimate from SEGMENTATION_ASSUMED_MARGIN_RATE is only ever shown beside
revenue, labelled as an estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import duckdb

Basis = Literal["margin", "revenue"]
BASES: tuple[Basis, ...] = ("margin", "revenue")

# The feature column holding each basis' money per customer.
FEATURE_COLUMN: dict[Basis, str] = {"margin": "margin", "revenue": "monetary"}


@dataclass(frozen=True)
class ValueBasis:
    basis: Basis
    counted_orders: int
    uncosted_orders: int  # counted orders with at least one completed line of unknown cost
    revenue: float
    costed_revenue: float  # revenue of the counted orders whose margin is known

    @property
    def costed_revenue_share(self) -> float | None:
        return self.costed_revenue / self.revenue if self.revenue > 0 else None

    @property
    def feature_column(self) -> str:
        return FEATURE_COLUMN[self.basis]

    def describe(self) -> str:
        """One line for logs, metadata and the report."""
        if self.counted_orders == 0:
            return f"value basis: {self.basis} (no counted order yet)"
        share = self.costed_revenue_share
        known = f"costs known for {share:.1%} of revenue" if share is not None else "no revenue"
        if self.basis == "margin":
            return f"value basis: margin ({known}, all {self.counted_orders:,} counted orders costed)"
        return (
            f"value basis: revenue ({known}; {self.uncosted_orders:,} of {self.counted_orders:,} counted orders "
            "have a line without a unit cost)"
        )


def choose_value_basis(
    preferred: str, counted_orders: int, uncosted_orders: int, revenue: float, costed_revenue: float
) -> ValueBasis:
    if preferred not in BASES:
        raise ValueError(f"value basis must be one of {BASES}, not {preferred!r} (SEGMENTATION_RFM_MONETARY)")
    margin_known = counted_orders > 0 and uncosted_orders == 0
    basis: Basis = "margin" if preferred == "margin" and margin_known else "revenue"
    return ValueBasis(basis, counted_orders, uncosted_orders, revenue, costed_revenue)


def read_value_basis(conn: duckdb.DuckDBPyConnection, preferred: str) -> ValueBasis:
    """The run's basis from `features.customer_orders` (one row per counted order up to the analysis date)."""
    counted, uncosted, revenue, costed = conn.execute(
        """SELECT count(*), count(*) FILTER (WHERE margin IS NULL), coalesce(sum(revenue), 0),
                  coalesce(sum(revenue) FILTER (WHERE margin IS NOT NULL), 0)
           FROM features.customer_orders"""
    ).fetchall()[0]
    return choose_value_basis(preferred, int(counted), int(uncosted), float(revenue), float(costed))
