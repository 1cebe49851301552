"""Writes a landing zone shaped like a real online shop's export: orders and a cost-less catalogue only.

Modelled on public invoice-line exports (a UK gift wholesaler's year of invoices) rather than on
the sample generator's archetypes, so the pipeline meets data it was not tuned on:

- orders only, plus a products file without `unit_cost` and a customers file with nothing but
  customer_id, country and updated_at; no surveys, social, service; no occasion, discount or
  payment columns at all;
- one channel (online), prices in pounds (GBP), one year of history;
- about a quarter of the lines without a customer id (guest checkouts);
- cancellations as separate invoices ('C' + invoice number, status `cancelled`) repeating
  products of an earlier invoice of the same customer;
- non-product lines (`POST` postage, `M` manual adjustments, `BANK CHARGES`) with no product record.

Buying follows a BG/NBD-like process (gamma-distributed purchase rates, a geometric number of
purchases before dropping out), not the sample archetypes. What was planted goes to
`OUT/truth/` (customers.parquet, export.json), never into `raw/`.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import polars as pl

from segmentation_pipeline.synth.days import TS_FORMAT
from segmentation_pipeline.synth.world import DAY_US, SECOND_US, Window

EXPORTS = ("online-shop",)
CURRENCY = "GBP"
CHANNEL = "online"
ORDER_COLUMNS = ["order_id", "line_number", "customer_id", "ordered_at", "channel", "product_id",
                 "quantity", "unit_price", "status"]  # fmt: skip
FIRST_INVOICE = 536365
FIRST_CUSTOMER = 12346
GUEST_LINE_SHARE = 0.25
CANCELLED_ORDER_SHARE = 0.03
# (code, share of orders carrying the line, unit price range in GBP). Postage is for foreign customers.
NON_PRODUCT = {"POST": (0.6, (15.0, 40.0)), "M": (0.01, (0.5, 60.0)), "BANK CHARGES": (0.004, (15.0, 15.0))}
# Country (ISO alpha-2) and share of registered customers: mostly domestic, as in the real export.
COUNTRIES = {"GB": 0.86, "DE": 0.03, "FR": 0.03, "IE": 0.02, "NL": 0.015, "ES": 0.01, "BE": 0.01,
             "CH": 0.008, "PT": 0.007, "AU": 0.005, "NO": 0.005}  # fmt: skip
# Catalogue words: (category, nouns); names read like the export's upper-case descriptions.
DEPARTMENTS = {
    "home decor": ["T-LIGHT HOLDER", "HANGING HEART", "PHOTO FRAME", "CUSHION COVER", "WALL CLOCK"],
    "kitchen": ["CAKE TIN", "TEA TOWEL", "MUG", "LUNCH BOX", "JAM JAR"],
    "gifts": ["GIFT WRAP", "TRINKET BOX", "KEY RING", "PARTY BUNTING", "GREETING CARD"],
    "bags": ["JUMBO BAG", "SHOPPER BAG", "CHARLOTTE BAG", "PURSE"],
    "christmas": ["CHRISTMAS BAUBLE", "ADVENT CALENDAR", "STAR DECORATION"],
}
ADJECTIVES = ["WHITE", "RED", "PINK", "BLUE", "VINTAGE", "REGENCY", "RETROSPOT", "FLORAL", "SPOTTY", "HEART"]
QUANTITIES = np.array([1, 2, 3, 4, 6, 8, 10, 12, 24, 48])
QUANTITY_P = np.array([0.24, 0.16, 0.1, 0.1, 0.12, 0.06, 0.04, 0.12, 0.04, 0.02])


@dataclass
class ExportSummary:
    out_dir: str
    export: str
    currency: str
    channel: str
    start_date: str
    end_date: str
    seed: int
    customers: int  # registered customers with at least one invoice
    invoices: int  # sales invoices (registered and guest), cancellations not included
    cancellation_invoices: int
    lines: int
    guest_lines: int  # lines with an empty customer_id (the pipeline quarantines them)
    cancelled_lines: int
    non_product_lines: dict[str, int]
    files: dict[str, int]

    def describe(self) -> str:
        extras = ", ".join(f"{code} {n:,}" for code, n in self.non_product_lines.items())
        return (
            f"{self.export} export {self.out_dir}/raw: {self.start_date} → {self.end_date}, prices in {self.currency}\n"
            f"  {self.lines:,} order lines in {self.invoices:,} invoices + {self.cancellation_invoices:,} "
            f"cancellations; {self.guest_lines:,} guest lines; non-product lines: {extras}\n"
            f"  {self.customers:,} customers; truth in {self.out_dir}/truth/"
        )


def _catalogue(rng: np.random.Generator, n: int) -> pl.DataFrame:
    departments = list(DEPARTMENTS)
    category = rng.integers(0, len(departments), n)
    nouns = [rng.choice(DEPARTMENTS[departments[c]]) for c in category]
    names = [
        f"{ADJECTIVES[a]} {noun}" for a, noun in zip(rng.integers(0, len(ADJECTIVES), n), nouns, strict=True)
    ]
    # Stock codes like '85123A': five digits, a quarter with a variant letter.
    letter = np.where(rng.random(n) < 0.25, rng.choice(list("ABCDEFG"), n), "")
    codes = [
        f"{c}{s}" for c, s in zip(rng.choice(np.arange(10000, 90000), n, replace=False), letter, strict=True)
    ]
    price = np.round(np.exp(rng.normal(np.log(2.5), 0.8, n)), 1) + np.where(rng.random(n) < 0.5, 0.05, 0.0)
    return pl.DataFrame(
        {
            "product_id": codes,
            "name": names,
            "category": [departments[c] for c in category],
            "price": np.clip(price, 0.19, 60.0).round(2),
        }
    )


def _customers(rng: np.random.Generator, n: int, window: Window) -> pl.DataFrame:
    """Registered customers: first purchase, purchase rate and purchases before dropping out."""
    existing = rng.random(n) < 0.4  # bought before the export starts: they show up early in it
    first_day = np.where(existing, rng.exponential(25.0, n), rng.uniform(0, window.days, n))
    rate_per_day = rng.gamma(0.9, 5.0 / 0.9, n) / 365.0  # ~5 orders a year on average, very spread
    dropout = rng.beta(1.2, 5.0, n)  # chance of leaving after each purchase
    purchases = rng.geometric(dropout)  # purchases before leaving (the first included)
    return pl.DataFrame(
        {
            "customer_id": (FIRST_CUSTOMER + np.arange(n)).astype(str),
            "country": rng.choice(
                list(COUNTRIES), n, p=np.array(list(COUNTRIES.values())) / sum(COUNTRIES.values())
            ),
            "first_day": first_day,
            "rate_per_year": rate_per_day * 365.0,
            "dropout_p": dropout,
            "purchase_limit": purchases,
        }
    ).filter(pl.col("first_day") < window.days)


def _purchase_days(
    rng: np.random.Generator, people: pl.DataFrame, days: int
) -> tuple[np.ndarray, np.ndarray]:
    """(customer row, day as float) of every purchase: the first, then a Poisson process until dropout."""
    first = people["first_day"].to_numpy()
    rate = people["rate_per_year"].to_numpy() / 365.0
    limit = people["purchase_limit"].to_numpy()
    repeats = rng.poisson(rate * (days - first))
    who = np.repeat(np.arange(len(first)), repeats)
    day = first[who] + rng.random(len(who)) * (days - first[who])
    order = np.lexsort((day, who))
    who, day = who[order], day[order]
    rank = np.arange(len(who)) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    keep = rank < limit[who] - 1  # the first purchase uses one of the purchases before dropout
    return np.concatenate([np.arange(len(first)), who[keep]]), np.concatenate([first, day[keep]])


def _times_us(rng: np.random.Generator, window: Window, day: np.ndarray) -> np.ndarray:
    hours = np.clip(rng.normal(13.0, 3.0, len(day)), 6.0, 21.9)
    return (
        window.start_us
        + np.floor(day).astype(np.int64) * DAY_US
        + (hours * 3600).astype(np.int64) * SECOND_US
    )


def _lines(rng: np.random.Generator, orders: pl.DataFrame, catalogue: pl.DataFrame) -> pl.DataFrame:
    """Product lines of each order (Zipf-like popularity) plus its non-product lines."""
    n = orders.height
    count = 1 + rng.poisson(3.5, n)
    o = np.repeat(np.arange(n), count)
    popularity = 1.0 / np.arange(1, catalogue.height + 1) ** 0.9
    product = rng.choice(catalogue.height, len(o), p=popularity / popularity.sum())
    quantity = rng.choice(QUANTITIES, len(o), p=QUANTITY_P)
    price = catalogue["price"].to_numpy()[product]
    price = np.where(quantity >= 12, np.round(price * 0.85, 2), price)  # the export's volume prices
    lines = [pl.DataFrame({"o": o, "product_id": catalogue["product_id"].gather(product),
                           "quantity": quantity, "unit_price": price})]  # fmt: skip
    foreign = (orders["country"].fill_null("GB") != "GB").to_numpy()
    for code, (share, (low, high)) in NON_PRODUCT.items():
        has = rng.random(n) < share
        if code == "POST":
            has &= foreign
        at = np.flatnonzero(has)
        lines.append(pl.DataFrame({"o": at, "product_id": [code] * len(at),
                                   "quantity": np.ones(len(at), np.int64),
                                   "unit_price": np.round(rng.uniform(low, high, len(at)), 2)}))  # fmt: skip
    return pl.concat(lines).sort("o", maintain_order=True)


def _cancellations(
    rng: np.random.Generator, orders: pl.DataFrame, lines: pl.DataFrame, end_us: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cancellation invoices: some of a registered order's product lines, again, 1 hour to 20 days later."""
    registered = orders.filter(pl.col("customer_id").is_not_null())
    chosen = registered.filter(pl.Series(rng.random(registered.height) < CANCELLED_ORDER_SHARE))
    delay_us = (rng.uniform(1 / 24, 20, chosen.height) * DAY_US).astype(np.int64)
    chosen = chosen.with_columns(ts_us=pl.col("ts_us") + pl.Series(delay_us)).filter(pl.col("ts_us") < end_us)
    # Joins keep their inputs' order: the random draws below go row by row (same seed, same bytes).
    picked = lines.join(chosen.select("o"), on="o", maintain_order="left_right")
    picked = picked.filter(~pl.col("product_id").is_in(list(NON_PRODUCT)))
    picked = picked.filter(pl.Series(rng.random(picked.height) < 0.6))
    share = rng.uniform(0.3, 1.0, picked.height)  # part of the quantity cancelled
    picked = picked.with_columns(
        quantity=pl.Series(np.maximum(1, (picked["quantity"].to_numpy() * share).astype(np.int64)))
    )
    chosen = chosen.join(picked.select("o").unique(maintain_order=True), on="o", maintain_order="left")
    return chosen, picked


def generate_online_shop_export(
    out_dir: Path, customers: int, seed: int, end_date: dt.date, days: int = 365, overwrite: bool = False
) -> ExportSummary:
    """Write `days` daily orders files ending on `end_date`, a products file and customers deltas.

    Same arguments, same bytes. Refuses to write into a `raw/` that already holds files unless
    `overwrite`, which deletes `raw/` first.
    """
    if customers < 1 or days < 1:
        raise ValueError("customers and days must be at least 1")
    out_dir = Path(out_dir)
    raw = out_dir / "raw"
    if raw.exists() and any(f.is_file() for f in raw.rglob("*")):
        if not overwrite:
            raise FileExistsError(f"{raw} already holds landing files; pass --overwrite to replace them")
        shutil.rmtree(raw)
    shutil.rmtree(out_dir / "truth", ignore_errors=True)
    for folder in (raw / "orders", raw / "products", raw / "customers", out_dir / "truth"):
        folder.mkdir(parents=True, exist_ok=True)

    rng = np.random.default_rng([seed, 10])
    window = Window(end=end_date, days=days)
    catalogue = _catalogue(rng, int(np.clip(200 + customers // 5, 200, 4000)))
    people = _customers(rng, customers, window)
    who, day = _purchase_days(rng, people, days)
    registered = pl.DataFrame({"customer_id": people["customer_id"].gather(who),
                               "country": people["country"].gather(who), "day": day})  # fmt: skip
    # Guest checkouts: as many lines as a third of the registered ones gives a quarter of all lines.
    n_guests = int(round(registered.height * GUEST_LINE_SHARE / (1 - GUEST_LINE_SHARE)))
    guests = pl.DataFrame(
        {
            "customer_id": pl.Series([None] * n_guests, dtype=pl.String),
            "country": rng.choice(
                list(COUNTRIES), n_guests, p=np.array(list(COUNTRIES.values())) / sum(COUNTRIES.values())
            ),
            "day": rng.uniform(0, days, n_guests),
        }  # fmt: skip
    )
    orders = pl.concat([registered, guests]).with_row_index("o").with_columns(pl.col("o").cast(pl.Int64))
    orders = orders.with_columns(ts_us=pl.Series(_times_us(rng, window, orders["day"].to_numpy())))
    lines = _lines(rng, orders, catalogue)
    end_us = window.start_us + days * DAY_US
    cancelled_orders, cancelled_lines = _cancellations(rng, orders, lines, end_us)

    invoices = pl.concat(
        [
            orders.select("o", "customer_id", "ts_us", cancel=pl.lit(False)),
            cancelled_orders.select("o", "customer_id", "ts_us", cancel=pl.lit(True)),
        ]
    )
    invoices = invoices.sort("ts_us", "o", "cancel").with_row_index("number")
    invoices = invoices.with_columns(
        order_id=pl.when("cancel").then(pl.lit("C")).otherwise(pl.lit(""))
        + (pl.col("number") + FIRST_INVOICE).cast(pl.String),
        ordered_at=pl.from_epoch("ts_us", time_unit="us").dt.strftime(TS_FORMAT),
        landing=pl.from_epoch("ts_us", time_unit="us").dt.date(),
        status=pl.when("cancel").then(pl.lit("cancelled")).otherwise(pl.lit("completed")),
    )
    all_lines = pl.concat(
        [lines.with_columns(cancel=pl.lit(False)), cancelled_lines.with_columns(cancel=pl.lit(True))]
    )
    rows = invoices.join(all_lines, on=["o", "cancel"], maintain_order="left_right").with_columns(
        line_number=pl.int_range(1, pl.len() + 1).over("number").cast(pl.Int32),
        channel=pl.lit(CHANNEL),
    )

    files = {"orders": 0, "products": 0, "customers": 0}
    for d in range(days):
        date = window.date(d)
        day_rows = rows.filter(pl.col("landing") == date).select(ORDER_COLUMNS)
        day_rows.write_csv(raw / "orders" / f"orders_{date}.csv", float_precision=2)  # header only = no sales
        files["orders"] += 1

    # The catalogue as exported on the first day: no unit_cost (the shop's export has none).
    first = window.date(0)
    catalogue.select("product_id", "name", "category", updated_at=pl.lit(f"{first}T00:30:00")).write_csv(
        raw / "products" / f"products_{first}.csv"
    )
    files["products"] = 1

    # Accounts land the day of their first purchase, with only what the export knows of them.
    first_purchase = (
        rows.filter(pl.col("customer_id").is_not_null())
        .group_by("customer_id")
        .agg(pl.col("ts_us").min(), pl.col("landing").min())
        .join(people.select("customer_id", "country"), on="customer_id")
        .sort("ts_us", "customer_id")  # group_by gives no order
    )
    for (date,), accounts in first_purchase.group_by("landing", maintain_order=True):
        accounts.select(
            "customer_id", "country",
            updated_at=pl.from_epoch(pl.col("ts_us") - 60 * SECOND_US, time_unit="us").dt.strftime(TS_FORMAT),
        ).write_csv(raw / "customers" / f"customers_{date}.csv")  # fmt: skip
        files["customers"] += 1

    counted = (
        rows.filter(pl.col("customer_id").is_not_null())
        .group_by("customer_id")
        .agg(invoices=pl.col("order_id").filter(pl.col("status") == "completed").n_unique())
    )
    people.drop("first_day").join(counted, on="customer_id", how="inner", maintain_order="left").with_columns(
        dropped_out=pl.col("invoices") >= pl.col("purchase_limit")
    ).write_parquet(out_dir / "truth" / "customers.parquet")
    summary = ExportSummary(
        out_dir=str(out_dir),
        export="online-shop",
        currency=CURRENCY,
        channel=CHANNEL,
        start_date=str(window.start),
        end_date=str(window.end),
        seed=seed,
        customers=counted.height,
        invoices=orders.height,
        cancellation_invoices=cancelled_orders.height,
        lines=rows.height,
        guest_lines=rows.filter(pl.col("customer_id").is_null()).height,
        cancelled_lines=cancelled_lines.height,
        non_product_lines={code: rows.filter(pl.col("product_id") == code).height for code in NON_PRODUCT},
        files=files,
    )
    (out_dir / "truth" / "export.json").write_text(json.dumps(asdict(summary), indent=2) + "\n")
    return summary
