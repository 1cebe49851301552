"""The service queue: every open ticket, ranked, for the seeds' "two customers need help and there is
capacity for one: which first?".

Rule (one line, exactly what `rank_open_tickets` does): open tickets (not recorded as resolved,
opened on or before the analysis date) are ranked by value at stake to the cent, highest first; then by the
effort so far, lowest first (the cheaper fix of two equal stakes); then the oldest ticket first;
then ticket_id. Value at stake = the customer's clv_12m, the expected 12-month value on the run's
value basis, which already is P(alive) × the value if the customer stays (the BG/NBD expectation):
P(alive) is not applied twice. A ticket whose value at stake is unknown (no CLV this run, or a
customer the profile does not know) ranks after every known one, by the same tie-breaks.
Stakes are compared to the cent (the money's smallest unit) because a CLV is a float sum: the same
customer history predicted in another batch of customers (DuckLake mode's customer buckets) may
differ in its last bit, and two customers with the same stake must not be reordered by that.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from segmentation_pipeline.contracts.frames import polars_schema
from segmentation_pipeline.contracts.tables import SERVICE_QUEUE

QUEUE_SCHEMA = polars_schema(SERVICE_QUEUE)


def empty_queue() -> pl.DataFrame:
    """The queue's shape with no rows (no service source, or no open ticket)."""
    return pl.DataFrame(schema=QUEUE_SCHEMA)


def rank_open_tickets(
    tickets: pl.DataFrame | None, profile: pl.DataFrame, as_of: dt.date, value_basis: str
) -> pl.DataFrame:
    """Open tickets ranked by the module's rule.

    tickets: ticket_id, customer_id, opened_at, effort_score, resolved[, channel] (None: no service source).
    profile: customer_id, segment_id, persona_name, clv_12m, p_alive.
    """
    if tickets is None or tickets.is_empty():
        return empty_queue()
    if "channel" not in tickets.columns:
        tickets = tickets.with_columns(channel=pl.lit(None, pl.String))
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    open_tickets = tickets.filter(
        (pl.col("resolved") != True).fill_null(True)  # noqa: E712 - no recorded resolution is not one
        & (pl.col("opened_at").cast(pl.Datetime("us")) < end)
    )
    people = profile.select(
        pl.col("customer_id").cast(pl.String),
        pl.col("segment_id").cast(pl.Int64),
        pl.col("persona_name").cast(pl.String),
        pl.col("clv_12m").cast(pl.Float64).alias("value_at_stake"),
        pl.col("p_alive").cast(pl.Float64),
    )
    queue = (
        open_tickets.select(
            pl.col("ticket_id").cast(pl.String),
            pl.col("customer_id").cast(pl.String),
            pl.col("opened_at").cast(pl.Datetime("us")),
            pl.col("channel").cast(pl.String),
            pl.col("effort_score").cast(pl.Int64).alias("effort_so_far"),
        )
        .join(people, on="customer_id", how="left")
        .with_columns(
            days_open=(pl.lit(as_of) - pl.col("opened_at").dt.date()).dt.total_days().cast(pl.Int64),
            value_basis=pl.lit(value_basis, pl.String),
        )
        .sort(
            [pl.col("value_at_stake").round(2), "effort_so_far", "opened_at", "ticket_id"],
            descending=[True, False, False, False],
            nulls_last=True,
        )
        .with_row_index("rank", offset=1)
        .with_columns(pl.col("rank").cast(pl.Int64))
    )
    return queue.select(list(QUEUE_SCHEMA)).cast(QUEUE_SCHEMA)
