"""One day's landing file per source: turns a day's slice of the simulated world into contract rows."""

# Frames carry exactly the contract's columns, in contract order. Timestamps are ISO 8601 text (UTC
# without offset; a few rows carry the Paris offset instead, as some source systems do), except in
# Parquet where they are typed (naive = UTC).

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import numpy as np
import polars as pl

from segmentation_pipeline.contracts import enums
from segmentation_pipeline.synth import archetypes as arch
from segmentation_pipeline.synth import tables
from segmentation_pipeline.synth.world import (
    CITY_SHARES,
    FIRST_NAMES,
    PROFESSIONS,
    SECOND_US,
    Catalogue,
    Customers,
    Events,
    SocialAccounts,
    ascii_fold,
    sample_rows,
    with_missing,
)

# File format per source: a mix on purpose, so every reader gets exercised.
FORMATS: dict[str, str] = {
    "customers": "csv",
    "products": "parquet",
    "orders": "csv",
    "surveys": "csv",
    "social": "jsonl",
    "service": "jsonl",
}
TS_FORMAT = "%Y-%m-%dT%H:%M:%S"
OFFSET_SHARE = 0.03  # rows written in Paris local time with an explicit offset

_ASCII_FIRST = [ascii_fold(n) for n in FIRST_NAMES]
_ASCII_LAST = [ascii_fold(n) for n in tables.LAST_NAMES]


def file_name(source: str, date: dt.date) -> str:
    return f"{source}_{date.isoformat()}.{FORMATS[source]}"


def write(frame: pl.DataFrame, path: Path, source: str) -> None:
    fmt = FORMATS[source]
    if fmt == "csv":
        frame.write_csv(path, float_precision=2)  # only money columns are floats in CSV sources
    elif fmt == "parquet":
        frame.write_parquet(path, compression="zstd")
    else:
        frame.write_ndjson(path)


@functools.cache
def _lookup(values: tuple[str, ...]) -> pl.Series:
    return pl.Series([*values, None], dtype=pl.String)


def pick(values: list[str], idx: np.ndarray) -> pl.Series:
    """values[idx] as a string Series; index -1 gives null."""
    return _lookup(tuple(values))[np.where(idx < 0, len(values), idx)]


def ids(prefix: str, numbers: np.ndarray, width: int) -> pl.Series:
    """1-based running numbers → 'C00000042'-style identifiers."""
    text = pl.Series(numbers.astype(np.int64)).cast(pl.String).str.zfill(width)
    return (prefix + text).alias("id")


def customer_ids(idx: np.ndarray) -> pl.Series:
    return ids("C", idx + 1, 8)


def _nullable(values: np.ndarray, missing: np.ndarray, dtype: pl.DataType) -> pl.Series:
    return pl.Series(values).cast(dtype).scatter(np.flatnonzero(missing), None)


def paris_offset_hours(rng: np.random.Generator, ts_us: np.ndarray) -> np.ndarray:
    """0 for most rows; +2 (Apr–Oct) or +1 (winter) for the share written in local time."""
    month = ts_us.astype("datetime64[us]").astype("datetime64[M]").astype(np.int64) % 12 + 1
    local = np.where((month >= 4) & (month <= 10), 2, 1)
    return np.where(rng.random(len(ts_us)) < OFFSET_SHARE, local, 0)


def iso_timestamps(ts_us: np.ndarray, offset_hours: np.ndarray) -> pl.Series:
    frame = pl.DataFrame({"t": ts_us.astype(np.int64), "o": offset_hours.astype(np.int64)})
    utc = pl.from_epoch("t", time_unit="us").dt.strftime(TS_FORMAT)
    local = pl.from_epoch(pl.col("t") + pl.col("o") * 3600 * SECOND_US, time_unit="us").dt.strftime(TS_FORMAT)
    text = (
        pl.when(pl.col("o") == 0)
        .then(utc)
        .otherwise(local + pl.format("+{}:00", pl.col("o").cast(pl.String).str.zfill(2)))
    )
    return frame.select(text.alias("ts")).to_series()


def customers_frame(
    rng: np.random.Generator, c: Customers, idx: np.ndarray, updated_us: np.ndarray
) -> pl.DataFrame:
    first, last = c.first_name[idx], c.last_name[idx]
    domain = c.email_domain[idx]
    number = c.email_number[idx]
    consumer = pick(tables.EMAIL_DOMAINS, np.where(domain >= 0, domain, -1))
    business = pick(tables.BUSINESS_DOMAINS, np.where(domain <= -2, -domain - 2, -1))
    city = c.city[idx]
    frame = pl.DataFrame(
        {
            "first": pick(FIRST_NAMES, first),
            "last": pick(tables.LAST_NAMES, last),
            "first_ascii": pick(_ASCII_FIRST, first),
            "last_ascii": pick(_ASCII_LAST, last),
            "number": pl.Series(number).cast(pl.String),
            "domain": consumer.fill_null(business),
        }
    )
    email = pl.concat_str(
        pl.col("first_ascii"),
        pl.lit("."),
        pl.col("last_ascii"),
        pl.when(pl.col("number") != "0").then(pl.col("number")).otherwise(pl.lit("")),
        pl.lit("@"),
        pl.col("domain"),
    )
    signup = pl.Series(c.signup_us[idx]).cast(pl.Datetime("us")).dt.date()
    return pl.DataFrame(
        {
            "customer_id": customer_ids(idx),
            "email": frame.select(email).to_series(),
            "full_name": frame.select(pl.concat_str("first", pl.lit(" "), "last")).to_series(),
            "birth_year": _nullable(c.birth_year[idx], c.birth_year[idx] == 0, pl.Int32),
            "gender": pick(enums.GENDERS, c.gender[idx]),
            "city": pick([x[0] for x in tables.CITIES], city),
            "region": pick([x[1] for x in tables.CITIES], np.where(c.region_missing[idx], -1, city)),
            "country": pick([x[2] for x in tables.CITIES], np.where(c.country_missing[idx], -1, city)),
            "income_band": pick(enums.INCOME_BANDS, c.income[idx]),
            "profession": pick(PROFESSIONS, c.profession[idx]),
            "web_savviness": pick(enums.WEB_SAVVINESS, c.web[idx]),
            "acquisition_channel": pick(enums.ACQUISITION_CHANNELS, c.acquisition[idx]),
            "signup_date": signup.scatter(np.flatnonzero(c.signup_date_missing[idx]), None),
            "updated_at": iso_timestamps(updated_us, paris_offset_hours(rng, updated_us)),
        }
    )


def update_profiles(rng: np.random.Generator, c: Customers, idx: np.ndarray) -> None:
    """Profile changes of existing customers, applied in place: a move, a new income band, a new
    e-mail address or growing web savviness."""
    what = rng.integers(0, 4, len(idx))
    moved = idx[what == 0]
    c.city[moved] = rng.choice(len(tables.CITIES), size=len(moved), p=CITY_SHARES)
    income = idx[what == 1]
    c.income[income] = np.clip(np.maximum(c.income[income], 0) + rng.choice([-1, 1], len(income)), 0, 4)
    email = idx[(what == 2) & (c.first_name[idx] >= 0)]
    c.email_domain[email] = np.where(
        c.email_domain[email] <= -2,
        c.email_domain[email],
        rng.integers(0, len(tables.EMAIL_DOMAINS), len(email)),
    )
    c.email_number[email] = rng.integers(1, 100, len(email))
    web = idx[what == 3]
    c.web[web] = np.minimum(np.maximum(c.web[web], 0) + 1, 2)


def products_frame(cat: Catalogue, idx: np.ndarray, updated_us: np.ndarray) -> pl.DataFrame:
    brand = pick([b[0] for b in tables.BRANDS], cat.brand[idx])
    noun = pick([c[2] for c in tables.CATEGORIES], cat.category[idx])
    name = brand + " " + noun + " " + pl.Series(cat.model[idx]).cast(pl.String)
    return pl.DataFrame(
        {
            "product_id": ids("P", idx + 1, 6),
            "name": name.scatter(np.flatnonzero(cat.name_missing[idx]), None),
            "category": pick([c[0] for c in tables.CATEGORIES], cat.category[idx]),
            "brand": brand.scatter(np.flatnonzero(cat.brand_missing[idx]), None),
            "unit_cost": pl.Series(cat.cost[idx], dtype=pl.Float64),
            "list_price": _nullable(cat.price[idx], cat.price_missing[idx], pl.Float64),
            "updated_at": pl.Series(updated_us, dtype=pl.Int64).cast(pl.Datetime("us")),
        }
    )


def reprice(rng: np.random.Generator, cat: Catalogue, share: float = 0.03) -> np.ndarray:
    """A weekly price review: a few products change list price (and sometimes cost). Returns them."""
    n = max(1, int(len(cat) * share))
    idx = np.sort(rng.choice(len(cat), size=n, replace=False))
    new_price = np.maximum(np.floor(cat.price[idx] * rng.uniform(0.85, 1.12, n)), 1.0) + 0.99
    cost_change = rng.random(n) < 0.3
    cat.cost[idx] = np.where(
        cost_change, (cat.cost[idx] * rng.uniform(0.95, 1.08, n)).round(2), cat.cost[idx]
    )
    cat.price[idx] = new_price
    return idx


def orders_frame(
    rng: np.random.Generator, ev: Events, day: slice, c: Customers, cat: Catalogue
) -> pl.DataFrame:
    cust, ts, channel = ev.customer[day], ev.ts_us[day], ev.kind[day]
    n = len(cust)
    a, kinds = c.archetype[cust], c.kinds
    commercial = kinds.table("cadence")[a] > 0

    # Order-level attributes
    lines = 1 + rng.poisson(kinds.table("extra_lines")[a]) + commercial
    occasion = sample_rows(rng, kinds.table("occasion")[a])
    december = ts.astype("datetime64[us]").astype("datetime64[M]").astype(np.int64) % 12 == 11
    none, holiday = enums.OCCASIONS.index("none"), enums.OCCASIONS.index("holiday")
    occasion = np.where(december & (occasion == none) & (rng.random(n) < 0.25), holiday, occasion)
    cancelled = rng.random(n) < kinds.table("cancelled")[a]
    late_p, late_mean = kinds.table("late")[a].T
    late = np.where(rng.random(n) < late_p, np.minimum(rng.geometric(1.0 / late_mean), 180), 0)
    late = np.where(cancelled, 0, late)
    ordered_at = iso_timestamps(ts, paris_offset_hours(rng, ts))

    # Line-level attributes
    o = np.repeat(np.arange(n), lines)
    total = len(o)
    line_number = np.arange(total) - np.repeat(np.cumsum(lines) - lines, lines) + 1
    la, lc = a[o], cust[o]
    fav = c.favourite_brand[lc]
    loyal_pick = cat.by_brand[
        cat.brand_start[fav] + (rng.random(total) * cat.brand_count[fav]).astype(np.int64)
    ]
    category = sample_rows(rng, kinds.table("categories")[la])
    lo, hi = kinds.table("price_band")[la].T
    count = cat.category_count[category]
    position = np.minimum(((lo + rng.random(total) * (hi - lo)) * count).astype(np.int64), count - 1)
    ladder_pick = cat.by_category[cat.category_start[category] + position]
    product = np.where(rng.random(total) < kinds.table("brand_loyalty")[la], loyal_pick, ladder_pick)

    bulk = np.clip(np.round(rng.lognormal(np.log(8.0 * c.activity[lc] + 2.0), 0.6)), 2, 200)
    quantity = np.where(commercial[o], bulk, 1 + rng.poisson(kinds.table("extra_quantity")[la]))
    price = cat.price[product]
    p_disc, rate_lo, rate_hi = kinds.table("discount")[la].T
    rate = np.where(rng.random(total) < p_disc, rng.uniform(rate_lo, rate_hi), 0.0)
    discount = np.round(rate * quantity * price, 2)
    completed, returned, cancelled_ = (
        enums.ORDER_STATUSES.index(s) for s in ("completed", "returned", "cancelled")
    )
    is_returned = rng.random(total) < kinds.table("returned")[la]
    status = np.where(cancelled[o], cancelled_, np.where(is_returned, returned, completed))

    return pl.DataFrame(
        {
            "order_id": ids("O", day.start + o + 1, 10),  # numbered in time order
            "line_number": pl.Series(line_number, dtype=pl.Int32),
            "customer_id": customer_ids(lc),
            "ordered_at": ordered_at.gather(o),
            "channel": pick(enums.ORDER_CHANNELS, channel[o]),
            "product_id": ids("P", product + 1, 6),
            "quantity": pl.Series(quantity, dtype=pl.Int32),
            "unit_price": pl.Series(price, dtype=pl.Float64),
            "discount": _nullable(discount, rng.random(total) < 0.03, pl.Float64),
            "status": pick(enums.ORDER_STATUSES, status),
            "occasion": pick(enums.OCCASIONS, with_missing(rng, occasion, 0.06)[o]),
            "payment_days_late": _nullable(late, rng.random(n) < 0.03, pl.Int32).gather(o),
        }
    )


def _likert(rng: np.random.Generator, mean: np.ndarray, sd: float, low: int, high: int) -> np.ndarray:
    return np.clip(np.round(rng.normal(mean, sd)), low, high).astype(np.int64)


def surveys_frame(
    rng: np.random.Generator, ev: Events, day: slice, kinds: arch.ArchetypeSet = arch.DEFAULT
) -> pl.DataFrame:
    cust, ts, a = ev.customer[day], ev.ts_us[day], ev.kind[day]
    n = len(cust)
    columns: dict[str, pl.Series] = {
        "response_id": ids("R", np.arange(day.start, day.stop) + 1, 9),
        "customer_id": customer_ids(cust).scatter(np.flatnonzero(cust < 0), None),
        "submitted_at": iso_timestamps(ts, paris_offset_hours(rng, ts)),
    }
    for column, field, values, missing in [
        ("discovery_channel", "discovery", enums.DISCOVERY_CHANNELS, 0.05),
        ("main_motivation", "motivation", enums.MOTIVATIONS, 0.04),
        ("main_barrier", "barrier", enums.BARRIERS, 0.06),
    ]:
        columns[column] = pick(values, with_missing(rng, sample_rows(rng, kinds.table(field)[a]), missing))
    means = kinds.table("importance")[a]
    for i, column in enumerate(enums.IMPORTANCE_COLUMNS):
        answer = _likert(rng, means[:, i], 0.9, 1, 5)
        columns[column] = _nullable(answer, rng.random(n) < 0.06, pl.Int32)
    columns["brand_perception"] = pick(
        enums.BRAND_PERCEPTIONS, with_missing(rng, sample_rows(rng, kinds.table("perception")[a]), 0.05)
    )
    satisfaction = _likert(rng, kinds.table("satisfaction_mean")[a], 1.3, 1, 10)
    nps = np.clip(np.round(satisfaction + rng.normal(-0.3, 1.2, n)), 0, 10)
    # Prospects have not bought yet: half of them skip the satisfaction question.
    never_orders = kinds.table("orders_per_year")[a] == 0
    skip = rng.random(n) < np.where(never_orders, 0.5, 0.05)
    columns["satisfaction"] = _nullable(satisfaction, skip, pl.Int32)
    columns["nps"] = _nullable(nps, rng.random(n) < 0.08, pl.Int32)
    bank = tables.COMMENTS_NEGATIVE + tables.COMMENTS_NEUTRAL + tables.COMMENTS_POSITIVE
    n_neg, n_neu = len(tables.COMMENTS_NEGATIVE), len(tables.COMMENTS_NEUTRAL)
    sizes = np.select([satisfaction <= 4, satisfaction <= 7], [n_neg, n_neu], len(tables.COMMENTS_POSITIVE))
    starts = np.select([satisfaction <= 4, satisfaction <= 7], [0, n_neg], n_neg + n_neu)
    comment = starts + (rng.random(n) * sizes).astype(np.int64)
    columns["comment"] = pick(bank, np.where(rng.random(n) < 0.25, comment, -1))
    return pl.DataFrame(columns)


def social_frame(
    rng: np.random.Generator, ev: Events, day: slice, acc: SocialAccounts, c: Customers
) -> pl.DataFrame:
    account, ts, k = ev.customer[day], ev.ts_us[day], ev.kind[day].astype(float)
    n = len(account)
    cust = acc.customer[account]
    a, kinds = c.archetype[cust], c.kinds
    followers = np.round(acc.followers[account] * (1 + acc.growth[account]) ** k * rng.lognormal(0, 0.03, n))
    first, last = c.first_name[cust], c.last_name[cust]
    handle = (
        pl.lit("@")
        + pick(_ASCII_FIRST, first)
        + pl.Series(["_", ".", ""]).gather(rng.integers(0, 3, n))
        + pick(_ASCII_LAST, last)
        + pl.Series(acc.handle_number[account]).cast(pl.String)
    )
    handle = pl.select(handle).to_series()
    beta_a, beta_b = kinds.table("engagement")[a].T
    return pl.DataFrame(
        {
            "customer_id": customer_ids(cust),
            "platform": pick(enums.SOCIAL_PLATFORMS, acc.platform[account]),
            "handle": handle.scatter(np.flatnonzero(rng.random(n) < 0.06), None),
            "followers": pl.Series(followers, dtype=pl.Int64),
            "following": _nullable(
                np.round(acc.following[account] * rng.lognormal(0, 0.05, n)), rng.random(n) < 0.08, pl.Int64
            ),
            "brands_followed": _nullable(
                np.round(acc.brands_followed[account] * (1 + 0.03 * k)), rng.random(n) < 0.15, pl.Int32
            ),
            "brand_mentions_90d": _nullable(
                rng.poisson(kinds.table("mentions_90d")[a]), rng.random(n) < 0.1, pl.Int32
            ),
            "engagement_rate": _nullable(
                np.round(rng.beta(beta_a, beta_b), 4), rng.random(n) < 0.1, pl.Float64
            ),
            "observed_at": iso_timestamps(ts, np.zeros(n, dtype=np.int64)),
        }
    )


def service_frame(
    rng: np.random.Generator, ev: Events, day: slice, kinds: arch.ArchetypeSet = arch.DEFAULT
) -> pl.DataFrame:
    cust, ts, a = ev.customer[day], ev.ts_us[day], ev.kind[day]
    n = len(cust)
    resolved = rng.random(n) < kinds.table("resolved")[a]
    minutes = np.round(rng.lognormal(np.log(kinds.table("resolution_median_min")[a]), 0.9), 1)
    return pl.DataFrame(
        {
            "ticket_id": ids("T", np.arange(day.start, day.stop) + 1, 9),
            "customer_id": customer_ids(cust),
            "opened_at": iso_timestamps(ts, paris_offset_hours(rng, ts)),
            "channel": pick(
                enums.SERVICE_CHANNELS,
                with_missing(rng, sample_rows(rng, kinds.table("service_channel")[a]), 0.03),
            ),
            "effort_score": pl.Series(
                _likert(rng, kinds.table("effort_mean")[a], 1.5, 1, 10), dtype=pl.Int32
            ),
            "resolution_minutes": _nullable(minutes, ~resolved | (rng.random(n) < 0.05), pl.Float64),
            "resolved": pl.Series(resolved).scatter(np.flatnonzero(rng.random(n) < 0.02), None),
        }
    )
