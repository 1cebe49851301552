"""What ingestion needs to know about each source beyond its Pandera model."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import pandera.polars as pa
import polars as pl

from segmentation_pipeline.contracts import models


@dataclass(frozen=True)
class SourceContract:
    name: str
    model: type[pa.DataFrameModel]
    keys: tuple[str, ...]
    # Snapshots/deltas upserted by id: latest updated_at wins (customers, products).
    upsert_by_updated_at: bool = False
    personal: tuple[str, ...] = ()
    # (group, column): rows of one group must agree on the column, or the whole group is rejected
    # (all lines of one order belong to one customer).
    same_value_within: tuple[str, str] | None = None

    # Cached: the model's schema is rebuilt on every call, and loading asks per column per file
    # (thousands of files in a two-year landing zone: seconds of a cold start).
    @cached_property
    def columns(self) -> dict[str, pl.DataType]:
        """Contract columns in order, with the polars type each is parsed into."""
        schema = self.model.to_schema()
        return {name: column.dtype.type for name, column in schema.columns.items()}

    @cached_property
    def required(self) -> tuple[str, ...]:
        """Columns a file must have, in contract order: the model's non-nullable fields (one source of truth)."""
        schema = self.model.to_schema()
        return tuple(name for name, column in schema.columns.items() if not column.nullable)

    @cached_property
    def id_columns(self) -> tuple[str, ...]:
        """Identifier columns: compared exactly, so surrounding blanks are trimmed on load."""
        return tuple(c for c in self.columns if c in self.keys or c.endswith("_id"))

    @cached_property
    def optional(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if c not in self.required)


SOURCES: dict[str, SourceContract] = {
    contract.name: contract
    for contract in [
        SourceContract(
            name="customers",
            model=models.Customers,
            keys=("customer_id",),
            upsert_by_updated_at=True,
            personal=("email", "full_name"),
        ),
        SourceContract(
            name="products",
            model=models.Products,
            keys=("product_id",),
            upsert_by_updated_at=True,
        ),
        SourceContract(
            name="orders",
            model=models.Orders,
            keys=("order_id", "line_number"),
            same_value_within=("order_id", "customer_id"),
        ),
        SourceContract(
            name="surveys",
            model=models.Surveys,
            keys=("response_id",),
            personal=("comment",),
        ),
        SourceContract(
            name="social",
            model=models.Social,
            keys=("customer_id", "platform", "observed_at"),
            personal=("handle",),
        ),
        SourceContract(
            name="service",
            model=models.Service,
            keys=("ticket_id",),
        ),
    ]
}

REQUIRED_SOURCE = "orders"


def source_contract(name: str) -> SourceContract:
    try:
        return SOURCES[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; the contract has {sorted(SOURCES)}") from None


# Every column the landing contract marks personal: they never leave staging (no written table
# declares one, tests/unit/test_contracts.py), and never reach Dagster's metadata.
PERSONAL_COLUMNS: tuple[str, ...] = tuple(c for source in SOURCES.values() for c in source.personal)
