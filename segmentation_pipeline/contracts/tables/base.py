"""`Column`, `TableContract` and `Consumer`: the one shape every table contract is written in."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB type, as information_schema.columns.data_type spells it
    description: str
    nullable: bool = False
    # Part of the BI contract (SPEC "Outputs"): dashboards may rely on it; never renamed or dropped.
    guaranteed: bool = False
    default: str | None = None  # SQL literal filled into rows written before the column existed


@dataclass(frozen=True)
class TableContract:
    table: str  # schema.name
    description: str
    columns: tuple[Column, ...]
    # Columns added after the table's first release: a warehouse created before gains them
    # (ALTER TABLE ... ADD COLUMN IF NOT EXISTS), at the end of the table, as new ones get them.
    added_later: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.table}: a column is declared twice")
        if names[len(names) - len(self.added_later) :] != list(self.added_later):
            raise ValueError(f"{self.table}: the columns added later must end the table, in order")

    @property
    def schema(self) -> str:
        return self.table.split(".")[0]

    @property
    def name(self) -> str:
        return self.table.split(".")[1]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def descriptions(self) -> dict[str, str]:
        return {c.name: c.description for c in self.columns}

    @property
    def guaranteed(self) -> list[str]:
        return [c.name for c in self.columns if c.guaranteed]

    def column(self, name: str, **changes: object) -> Column:
        """This table's column `name`, for a table that repeats it (with `nullable`/`guaranteed` changed)."""
        for column in self.columns:
            if column.name == name:
                return dataclasses.replace(column, **changes)
        raise KeyError(f"{self.table} has no column {name!r}")

    def pick(self, names: Iterable[str], **changes: object) -> tuple[Column, ...]:
        """Several of this table's columns, in the order asked, each changed alike."""
        return tuple(self.column(name, **changes) for name in names)

    def columns_except(self, names: Iterable[str]) -> tuple[Column, ...]:
        """This table's other columns, in its own order (for a table that repeats all of them)."""
        taken = set(names)
        return tuple(c for c in self.columns if c.name not in taken)

    def ddl(self, replace: bool = False) -> str:
        """CREATE TABLE with the contract's types and NOT NULL constraints (an empty typed table)."""
        columns = ", ".join(_column_ddl(c) for c in self.columns)
        create = "CREATE OR REPLACE TABLE" if replace else "CREATE TABLE IF NOT EXISTS"
        return f"{create} {self.table} ({columns})"

    def upgrade_ddl(self) -> list[str]:
        """ALTER TABLE statements that give a table created before `added_later` its new columns."""
        return [
            f"ALTER TABLE {self.table} ADD COLUMN IF NOT EXISTS {_column_ddl(self.column(name))}"
            for name in self.added_later
        ]


def _column_ddl(column: Column) -> str:
    default = "" if column.default is None else f" DEFAULT {column.default}"
    return f'"{column.name}" {column.type}{default}{"" if column.nullable else " NOT NULL"}'


@dataclass(frozen=True)
class Consumer:
    """What a step reads from a table: per column, whether it copes with nulls."""

    name: str
    table: TableContract
    accepts_null: dict[str, bool]

    @property
    def columns(self) -> list[str]:
        return list(self.accepts_null)


CUSTOMER_ID = Column("customer_id", "VARCHAR", "Customer identifier.")
