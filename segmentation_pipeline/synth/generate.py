"""Writes a complete sample landing zone (raw files, ground truth, optional faults) for one seed."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from segmentation_pipeline.synth import archetypes as arch
from segmentation_pipeline.synth import days as daily
from segmentation_pipeline.synth import events, world
from segmentation_pipeline.synth.days import FORMATS

DEFAULT_END = dt.date(2026, 6, 30)
SOURCES = list(FORMATS)
PROFILE_UPDATES_PER_DAY = 0.0004  # share of the existing base that changes its profile on a given day
REPRICE_EVERY_DAYS = 7
MIN_FAULT_DAYS = 30  # room for whole-file faults on separate days plus row faults
# Independent random streams: a day's file depends only on (seed, source, day), not on the others.
_STREAM = {name: i + 1 for i, name in enumerate(SOURCES)}
_WORLD_STREAM = 0


@dataclass
class GenerationSummary:
    out_dir: Path
    start_date: dt.date
    end_date: dt.date
    customers: int
    seed: int
    rows: dict[str, int] = field(default_factory=dict)  # rows written per source (before faults)
    files: dict[str, int] = field(default_factory=dict)  # files written per source under raw/
    faults: int = 0  # entries in truth/faults.jsonl
    elapsed_s: float = 0.0

    @property
    def files_written(self) -> int:
        return sum(self.files.values())

    def describe(self) -> str:
        counts = ", ".join(f"{source} {self.rows.get(source, 0):,}" for source in SOURCES)
        text = (
            f"landing zone {self.out_dir}/raw: {self.start_date} → {self.end_date}, "
            f"{self.files_written:,} files in {self.elapsed_s:.1f}s\n  rows: {counts}"
        )
        if self.faults:
            text += f"\n  faults injected: {self.faults} (see {self.out_dir}/truth/faults.jsonl)"
        return text


def _rng(seed: int, stream: int, day: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, stream, day])


def _prepare(out_dir: Path, overwrite: bool) -> None:
    """Refuse to mix with files already landed; truth/ and relanding/ are the generator's own."""
    raw = out_dir / "raw"
    if raw.exists() and any(f.is_file() for f in raw.rglob("*")):
        if not overwrite:
            raise FileExistsError(
                f"{raw} already holds landing files; pass overwrite=True (--overwrite) to replace them"
            )
        shutil.rmtree(raw)
    for own in (out_dir / "truth", out_dir / "relanding"):
        shutil.rmtree(own, ignore_errors=True)
    for source in SOURCES:
        (raw / source).mkdir(parents=True, exist_ok=True)
    (out_dir / "truth").mkdir(parents=True, exist_ok=True)


def _customer_delta(
    r: np.random.Generator, people: world.Customers, day: int, day_us: int, signed_by_end_of_day: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Who lands in a day's customers file, and with which updated_at.

    Day 0 is the snapshot of the existing base (exported at night) plus that day's signups; later
    days are deltas: new signups plus profile updates of earlier customers (changed in place).
    """
    first = 0 if day == 0 else int(signed_by_end_of_day[day - 1])
    new = np.arange(first, int(signed_by_end_of_day[day]))
    signup = people.signup_us[new]
    nightly_export = day_us + r.integers(300, 5 * 3600, len(new)) * world.SECOND_US
    new_updated = np.where(signup < day_us, nightly_export, signup)
    n_updates = min(int(r.poisson(PROFILE_UPDATES_PER_DAY * first)), first)
    updates = np.sort(r.choice(first, size=n_updates, replace=False)) if n_updates else np.zeros(0, np.int64)
    daily.update_profiles(r, people, updates)
    updated = day_us + r.integers(0, 24 * 3600, len(updates)) * world.SECOND_US
    return np.concatenate([new, updates]).astype(np.int64), np.concatenate([new_updated, updated])


def generate_landing_zone(
    out_dir: Path,
    customers: int,
    days: int,
    seed: int,
    end_date: dt.date = DEFAULT_END,
    faults: bool = False,
    overwrite: bool = False,
    archetypes: arch.ArchetypeSet = arch.DEFAULT,
) -> GenerationSummary:
    """Generate `days` daily landing files per source ending on `end_date` into `out_dir/raw`.

    The true archetype of every customer goes to `out_dir/truth/archetypes.parquet`; with
    `faults`, bad input is injected and listed in `out_dir/truth/faults.jsonl`. Same arguments,
    same bytes. `archetypes` is the world's population (default: the project's sample world;
    `synth.random_world.draw_archetypes` draws others). Refuses to write into a `raw/` that already holds files unless `overwrite`, which
    deletes `raw/` first.
    """
    if customers < 1 or days < 1:
        raise ValueError("customers and days must be at least 1")
    if faults and days < MIN_FAULT_DAYS:
        raise ValueError(f"fault injection needs at least {MIN_FAULT_DAYS} days")
    started = time.perf_counter()
    out_dir = Path(out_dir)
    _prepare(out_dir, overwrite)
    window = world.Window(end=end_date, days=days)
    summary = GenerationSummary(
        out_dir=out_dir,
        start_date=window.start,
        end_date=window.end,
        customers=customers,
        seed=seed,
        rows=dict.fromkeys(SOURCES, 0),
        files=dict.fromkeys(SOURCES, 0),
    )

    rng = _rng(seed, _WORLD_STREAM)
    people = world.make_customers(rng, customers, window, archetypes)
    catalogue = world.make_catalogue(rng, customers)
    orders = events.make_orders(rng, people, window)
    surveys = events.make_surveys(rng, people, window)
    accounts, social = events.make_social(rng, people, window)
    tickets = events.make_tickets(rng, people, window)

    signed_by_end_of_day = np.searchsorted(
        people.signup_us, window.start_us + np.arange(1, days + 1, dtype=np.int64) * world.DAY_US
    )

    def emit(source: str, day: int, frame: pl.DataFrame) -> None:
        if frame.height == 0 and FORMATS[source] != "csv":
            return  # a header-only CSV says "nothing today"; JSON Lines and Parquet have no such file
        daily.write(frame, out_dir / "raw" / source / daily.file_name(source, window.date(day)), source)
        summary.rows[source] += frame.height
        summary.files[source] += 1

    for day in range(days):
        day_us = window.start_us + day * world.DAY_US

        r = _rng(seed, _STREAM["customers"], day)
        idx, updated_us = _customer_delta(r, people, day, day_us, signed_by_end_of_day)
        emit("customers", day, daily.customers_frame(r, people, idx, updated_us))

        # Products: full snapshot on day 0, weekly repricing deltas afterwards.
        r = _rng(seed, _STREAM["products"], day)
        if day == 0:
            changed = np.arange(len(catalogue))
        elif day % REPRICE_EVERY_DAYS == 0:
            changed = daily.reprice(r, catalogue)
        else:
            changed = np.array([], dtype=np.int64)
        if len(changed):
            stamp = day_us + r.integers(0, 3 * 3600, len(changed)) * world.SECOND_US
            emit("products", day, daily.products_frame(catalogue, changed, stamp))

        emit(
            "orders",
            day,
            daily.orders_frame(
                _rng(seed, _STREAM["orders"], day), orders, orders.day(day), people, catalogue
            ),
        )
        emit(
            "surveys",
            day,
            daily.surveys_frame(_rng(seed, _STREAM["surveys"], day), surveys, surveys.day(day), archetypes),
        )
        emit(
            "social",
            day,
            daily.social_frame(_rng(seed, _STREAM["social"], day), social, social.day(day), accounts, people),
        )
        emit(
            "service",
            day,
            daily.service_frame(_rng(seed, _STREAM["service"], day), tickets, tickets.day(day), archetypes),
        )

    # The first order a customer places (null: none in the window) tells when the planted
    # archetype becomes visible: before it, a buyer-to-be is a prospect like any other.
    first_order_us = np.full(customers, np.iinfo(np.int64).max)
    np.minimum.at(first_order_us, orders.customer, orders.ts_us)
    pl.DataFrame(
        {
            "customer_id": daily.customer_ids(np.arange(customers)),
            "archetype": daily.pick(archetypes.names, people.archetype.astype(np.int64)),
            "first_order_at": pl.Series(first_order_us, dtype=pl.Int64),
        }
    ).with_columns(
        pl.when(pl.col("first_order_at") < np.iinfo(np.int64).max)
        .then(pl.col("first_order_at"))
        .cast(pl.Datetime("us", "UTC"))
        .dt.truncate("1s")  # as the files write it
    ).write_parquet(out_dir / "truth" / "archetypes.parquet", compression="zstd")

    if faults:
        from segmentation_pipeline.synth.faults import inject_faults

        summary.faults = len(inject_faults(out_dir, window, _rng(seed, 99)))
    summary.elapsed_s = time.perf_counter() - started
    return summary
