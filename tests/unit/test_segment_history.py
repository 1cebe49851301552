"""Segment history rows and migrations (behavioural and RFM)."""

from __future__ import annotations

from datetime import date

import polars as pl

from segmentation_pipeline.marts.history.segment_history import (
    compare_with_previous,
    history_rows,
    migrations,
)

DAY1, DAY2 = date(2026, 6, 1), date(2026, 6, 2)


def assignment(rows: list[tuple[str, int, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["customer_id", "segment_id", "rfm_segment"], orient="row")


def as_dict(df: pl.DataFrame, kind: str) -> dict[tuple, tuple]:
    return {
        (r["from_segment"], r["to_segment"]): (r["customers"], r["revenue"])
        for r in df.filter(pl.col("kind") == kind).iter_rows(named=True)
    }


def test_history_rows():
    rows = history_rows(assignment([("b", 2, "Lost"), ("a", 1, "Champions")]), DAY1)
    assert rows.columns == ["customer_id", "as_of_date", "segment_id", "rfm_segment"]
    assert rows.get_column("customer_id").to_list() == ["a", "b"]
    assert rows.get_column("as_of_date").unique().to_list() == [DAY1]
    no_rfm = history_rows(pl.DataFrame({"customer_id": ["a"], "segment_id": [1]}), DAY1)
    assert no_rfm.get_column("rfm_segment").to_list() == [None]


def test_first_run_everyone_is_new():
    current = history_rows(assignment([("a", 1, "Champions"), ("b", 1, "Champions"), ("c", 2, "Lost")]), DAY1)
    revenue = pl.DataFrame({"customer_id": ["a", "b", "c"], "revenue": [10.0, 20.0, 5.0]})
    result = migrations(None, current, revenue)
    assert as_dict(result, "segment") == {(None, "1"): (2, 30.0), (None, "2"): (1, 5.0)}
    assert as_dict(result, "rfm") == {(None, "Champions"): (2, 30.0), (None, "Lost"): (1, 5.0)}
    assert result.get_column("as_of_date").unique().to_list() == [DAY1]


def test_moves_stays_arrivals_and_departures():
    day1 = history_rows(
        assignment(
            [("a", 1, "Champions"), ("b", 1, "Champions"), ("c", 2, "Loyal Customers"), ("d", 2, "Lost")]
        ),
        DAY1,
    )
    day2 = history_rows(
        assignment([("a", 1, "Champions"), ("b", 3, "At Risk"), ("c", 3, "At Risk"), ("e", 0, "Prospect")]),
        DAY2,
    )
    revenue = pl.DataFrame({"customer_id": ["a", "b", "c", "e"], "revenue": [100.0, 40.0, 60.0, 0.0]})
    # The whole history table may be passed: the latest run before DAY2 is used.
    result = migrations(pl.concat([day1, day2]), day2, revenue)
    assert as_dict(result, "segment") == {
        ("1", "1"): (1, 100.0),  # stayed
        ("1", "3"): (1, 40.0),
        ("2", "3"): (1, 60.0),
        ("2", None): (1, 0.0),  # d left the base
        (None, "0"): (1, 0.0),  # e is new (a prospect)
    }
    rfm = as_dict(result, "rfm")
    assert rfm[("Champions", "At Risk")] == (1, 40.0)
    assert rfm[("Loyal Customers", "At Risk")] == (1, 60.0)
    assert rfm[("Champions", "Champions")] == (1, 100.0)
    assert result.get_column("customers").sum() == 2 * 5
    assert set(result.get_column("kind").unique()) == {"segment", "rfm"}


def test_without_revenue_and_empty_current():
    day1 = history_rows(assignment([("a", 1, "Champions")]), DAY1)
    day2 = history_rows(assignment([("a", 2, "Champions")]), DAY2)
    result = migrations(day1, day2)
    assert as_dict(result, "segment") == {("1", "2"): (1, 0.0)}
    empty = migrations(day1, day2.clear())
    assert empty.height == 0 and empty.columns == [
        "as_of_date", "kind", "from_segment", "to_segment", "customers", "revenue"
    ]  # fmt: skip


def test_only_customers_whose_segments_changed_get_a_history_row():
    previous = pl.DataFrame(
        {"customer_id": ["a", "b"], "as_of_date": [date(2025, 1, 1), date(2025, 1, 20)],
         "segment_id": [1, 2], "rfm_segment": ["Champions", "Lost"]},
        schema={"customer_id": pl.String, "as_of_date": pl.Date, "segment_id": pl.Int64, "rfm_segment": pl.String},
    )  # fmt: skip
    current = pl.DataFrame(
        {"customer_id": ["a", "b", "c"], "as_of_date": [date(2025, 1, 31)] * 3, "segment_id": [1, 3, 1],
         "rfm_segment": ["Champions", "Lost", None]},
        schema=previous.schema,
    )  # fmt: skip
    revenue = pl.DataFrame({"customer_id": ["a", "b", "c"], "revenue": [10.0, 20.0, 0.0]})
    moves, changed = compare_with_previous(previous, current, revenue)
    assert changed["customer_id"].to_list() == ["b", "c"]  # a stayed; b moved; c is new
    segment_moves = moves.filter(pl.col("kind") == "segment").sort(
        "to_segment", "from_segment", nulls_last=True
    )
    # Both previous rows count as the one previous run, whatever date each was written on.
    assert set(moves["as_of_date"]) == {date(2025, 1, 31)}
    assert segment_moves.select("from_segment", "to_segment", "customers").rows() == [
        ("1", "1", 1), (None, "1", 1), ("2", "3", 1),
    ]  # fmt: skip
