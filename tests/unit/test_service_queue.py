"""The service queue ranks open tickets by the documented rule, on hand-made tickets."""

from __future__ import annotations

import datetime as dt

import polars as pl

from segmentation_pipeline.marts.economics.service_queue import QUEUE_SCHEMA, rank_open_tickets

AS_OF = dt.date(2026, 6, 30)


def ts(day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, 6, day, hour)


PROFILE = pl.DataFrame(
    {
        "customer_id": ["joe", "sarah", "lost", "nocl"],
        "segment_id": [1, 2, 3, 2],
        "persona_name": ["Gift buyer", "Frequent buyer", "Lapsed", "Frequent buyer"],
        "clv_12m": [400.0, 150.0, 5.0, None],
        "p_alive": [0.9, 0.95, 0.1, None],
    }
)


def tickets(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "ticket_id": pl.String,
            "customer_id": pl.String,
            "opened_at": pl.Datetime("us"),
            "effort_score": pl.Int32,
            "resolved": pl.Boolean,
            "channel": pl.String,
        },  # fmt: skip
        orient="row",
    )


def test_two_customers_need_help_capacity_for_one():
    queue = rank_open_tickets(
        tickets(
            [
                ("t-sarah", "sarah", ts(29), 3, False, "chat"),
                ("t-joe", "joe", ts(20), 6, None, "phone"),  # no recorded resolution is open
                ("t-lost", "lost", ts(1), 1, False, "email"),
                ("t-done", "joe", ts(2), 9, True, "email"),  # resolved: not in the queue
                ("t-later", "sarah", dt.datetime(2026, 7, 1, 8), 2, False, "chat"),  # after as_of
            ]
        ),
        PROFILE,
        AS_OF,
        "margin",
    )
    assert queue.schema == pl.Schema(QUEUE_SCHEMA)
    assert queue["ticket_id"].to_list() == ["t-joe", "t-sarah", "t-lost"]
    assert queue["rank"].to_list() == [1, 2, 3]
    joe = queue.row(0, named=True)
    assert joe["value_at_stake"] == 400.0 and joe["segment_id"] == 1 and joe["days_open"] == 10
    assert joe["effort_so_far"] == 6 and joe["value_basis"] == "margin"


def test_equal_stakes_least_effort_then_oldest_then_id_unknown_value_last():
    queue = rank_open_tickets(
        tickets(
            [
                ("b", "sarah", ts(10), 5, False, None),
                ("a", "sarah", ts(10), 5, False, None),
                ("old", "sarah", ts(1), 5, False, None),
                ("cheap", "sarah", ts(29), 2, False, None),
                ("unknown-value", "nocl", ts(1), 1, False, None),
                ("stranger", "not-in-profile", ts(1), 1, False, None),
            ]
        ),
        PROFILE,
        AS_OF,
        "revenue",
    )
    assert queue["ticket_id"].to_list() == ["cheap", "old", "a", "b", "stranger", "unknown-value"]
    assert queue.filter(pl.col("ticket_id") == "stranger")["segment_id"].to_list() == [None]


def test_no_service_source_gives_an_empty_typed_queue():
    for none in (None, tickets([])):
        queue = rank_open_tickets(none, PROFILE, AS_OF, "margin")
        assert queue.height == 0 and queue.schema == pl.Schema(QUEUE_SCHEMA)
