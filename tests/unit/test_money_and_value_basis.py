"""Money in words (currency and language) and the run's value basis (margin only when every order is costed)."""

from __future__ import annotations

import pytest

from segmentation_pipeline.features.value_basis import choose_value_basis
from segmentation_pipeline.models.money import format_money


@pytest.mark.parametrize(
    ("amount", "currency", "language", "whole", "expected"),
    [
        (1234.5, "GBP", "en", False, "£1,234.50"),
        (1234.5, "GBP", "fr", False, "1\u202f234,50\u00a0£"),
        (1234.5, "EUR", "en", True, "€1,234"),
        (-12, "USD", "en", False, "-$12.00"),
        (1234.5, "BRL", "fr", False, "1\u202f234,50\u00a0R$"),
        (1234.4, "JPY", "en", False, "¥1,234"),  # no minor unit
        (5, "CHF", "en", False, "CHF\u00a05.00"),
    ],
)
def test_format_money(amount, currency, language, whole, expected):
    assert format_money(amount, currency, language, whole=whole) == expected


def test_margin_basis_needs_every_counted_order_costed():
    assert choose_value_basis("margin", 100, 0, 5000.0, 5000.0).basis == "margin"
    partial = choose_value_basis("margin", 100, 1, 5000.0, 4990.0)
    assert partial.basis == "revenue" and partial.costed_revenue_share == pytest.approx(0.998)
    assert "1 of 100 counted orders" in partial.describe()
    assert choose_value_basis("margin", 100, 100, 5000.0, 0.0).basis == "revenue"  # no costs at all
    assert choose_value_basis("revenue", 100, 0, 5000.0, 5000.0).basis == "revenue"  # asked for
    assert choose_value_basis("margin", 0, 0, 0.0, 0.0).basis == "revenue"  # nothing to cost yet
    with pytest.raises(ValueError, match="SEGMENTATION_RFM_MONETARY"):
        choose_value_basis("profit", 1, 0, 1.0, 1.0)
