"""The simulated world behind the landing files: customers, catalogue and every dated event."""

# Plain numpy arrays indexed by customer, product or event, built once per run with vectorised
# draws. Events keep only what must stay consistent across days (who, when, channel); per-row
# details are drawn when a day's file is written (see `days.py`).

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

import numpy as np

from segmentation_pipeline.contracts import enums
from segmentation_pipeline.synth import archetypes as arch
from segmentation_pipeline.synth import tables

DAY_US = 86_400_000_000
SECOND_US = 1_000_000
_EPOCH = dt.date(1970, 1, 1)
GENDER_FEMALE, GENDER_MALE = enums.GENDERS.index("female"), enums.GENDERS.index("male")
ORDER_STORE, ORDER_PHONE = enums.ORDER_CHANNELS.index("store"), enums.ORDER_CHANNELS.index("phone")

FIRST_NAMES = tables.FEMALE_FIRST + tables.MALE_FIRST
CITY_SHARES = np.array([c[3] for c in tables.CITIES]) / sum(c[3] for c in tables.CITIES)
PROFESSIONS = sorted(
    set(tables.PROFESSIONS_GENERAL)
    | set(tables.PROFESSIONS_JOE)
    | set(tables.PROFESSIONS_SARAH)
    | set(tables.PROFESSIONS_COMMERCIAL)
)


def ascii_fold(text: str) -> str:
    """'Hélène' → 'helene', for e-mail addresses and social handles."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c == "-")).lower()


def sample_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of `probs` (rows are probability vectors)."""
    cumulative = np.cumsum(probs, axis=1)
    u = rng.random(len(probs))[:, None] * cumulative[:, -1:]
    return (u >= cumulative).sum(axis=1).astype(np.int16)


def with_missing(rng: np.random.Generator, idx: np.ndarray, share: float | np.ndarray) -> np.ndarray:
    """Index arrays use -1 for a missing value; blank out `share` of them at random."""
    out = idx.astype(np.int32)
    out[rng.random(len(idx)) < share] = -1
    return out


@dataclass(frozen=True)
class Window:
    """The generated period: `days` whole UTC days ending on `end` (inclusive)."""

    end: dt.date
    days: int

    @property
    def start(self) -> dt.date:
        return self.end - dt.timedelta(days=self.days - 1)

    @property
    def start_us(self) -> int:
        return (self.start - _EPOCH).days * DAY_US

    def date(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=day)


@dataclass
class Customers:
    """One entry per customer, in signup order (customer i has id C{i+1:08d})."""

    archetype: np.ndarray  # int8, index into archetypes.ARCHETYPES
    signup_us: np.ndarray  # int64 epoch microseconds (before the window for the existing base)
    active_from: np.ndarray  # float day index in the window where ordering may start (>= 0)
    active_to: np.ndarray  # float day index where ordering stops (lapsed customers stop early)
    activity: np.ndarray  # float multiplier on order frequency (heterogeneity between customers)
    first_name: np.ndarray  # int16 into FIRST_NAMES (-1 = no name)
    last_name: np.ndarray
    email_domain: np.ndarray  # int16: >= 0 consumer domain, <= -2 business domain (-d-2), -1 none
    email_number: np.ndarray  # 0 = no number suffix
    birth_year: np.ndarray  # int32, 0 = missing
    gender: np.ndarray
    city: np.ndarray
    region_missing: np.ndarray
    country_missing: np.ndarray
    income: np.ndarray
    profession: np.ndarray
    web: np.ndarray
    acquisition: np.ndarray
    signup_date_missing: np.ndarray
    favourite_brand: np.ndarray
    kinds: arch.ArchetypeSet = arch.DEFAULT  # the archetypes `archetype` indexes

    def __len__(self) -> int:
        return len(self.archetype)


@dataclass
class Catalogue:
    category: np.ndarray
    brand: np.ndarray
    price: np.ndarray  # current list price (changes on product update days)
    cost: np.ndarray
    model: np.ndarray  # model number used in the product name
    name_missing: np.ndarray
    brand_missing: np.ndarray
    price_missing: np.ndarray
    by_category: np.ndarray  # product indices sorted by (category, price)
    category_start: np.ndarray
    category_count: np.ndarray
    by_brand: np.ndarray
    brand_start: np.ndarray
    brand_count: np.ndarray

    def __len__(self) -> int:
        return len(self.category)


@dataclass
class Events:
    """Dated events sorted by time; `day_bounds[d]:day_bounds[d+1]` are the events of day d."""

    customer: np.ndarray  # int32 (-1 = anonymous survey)
    ts_us: np.ndarray  # int64 epoch microseconds
    kind: np.ndarray  # int16 payload: order channel / archetype (surveys, tickets) / observation number
    day_bounds: np.ndarray

    @classmethod
    def sorted(cls, window: Window, customer: np.ndarray, ts_us: np.ndarray, kind: np.ndarray) -> Events:
        order = np.argsort(ts_us, kind="stable")
        ts_us = ts_us[order]
        edges = window.start_us + np.arange(window.days + 1, dtype=np.int64) * DAY_US
        return cls(
            customer=customer[order].astype(np.int32),
            ts_us=ts_us,
            kind=kind[order].astype(np.int16),
            day_bounds=np.searchsorted(ts_us, edges),
        )

    def __len__(self) -> int:
        return len(self.ts_us)

    def day(self, d: int) -> slice:
        return slice(int(self.day_bounds[d]), int(self.day_bounds[d + 1]))


def make_customers(
    rng: np.random.Generator, n: int, window: Window, kinds: arch.ArchetypeSet = arch.DEFAULT
) -> Customers:
    a = rng.choice(len(kinds), size=n, p=kinds.shares).astype(np.int8)
    days = window.days
    # Lapsed customers stop ordering somewhere before the last ~6 months (190 days) of the window.
    lapses = kinds.table("lapses")[a] > 0
    lapse_end = np.where(lapses, rng.uniform(0.25, 1.0, n) * max(days - 190, 0), days)
    existing = rng.random(n) < kinds.table("existing_share")[a]
    signup_day = np.where(
        existing,
        -rng.uniform(1, 5 * 365, n),  # the base before the window: up to five years old
        rng.uniform(0, 1, n) * np.where(lapse_end < days, lapse_end, days),
    )
    signup_us = window.start_us + (signup_day * DAY_US).astype(np.int64)
    order = np.argsort(signup_us, kind="stable")
    a, signup_us, lapse_end = a[order], signup_us[order], lapse_end[order]
    signup_day = (signup_us - window.start_us) / DAY_US

    age_mean, age_sd = kinds.table("age").T
    age = np.clip(rng.normal(age_mean[a], age_sd[a]), 17, 88)
    birth_year = (window.end.year - age).round().astype(np.int32)
    commercial = kinds.table("cadence")[a] > 0
    missing_birth = rng.random(n) < np.where(commercial, 0.5, 0.08)
    birth_year[missing_birth] = 0

    gender = sample_rows(rng, kinds.table("gender")[a])
    # Names follow the gender; 'other' and 'unknown' get either kind of first name.
    female = (gender == GENDER_FEMALE) | ((gender > GENDER_MALE) & (rng.random(n) < 0.5))
    n_female = len(tables.FEMALE_FIRST)
    first = np.where(
        female,
        rng.integers(0, n_female, n),
        n_female + rng.integers(0, len(tables.MALE_FIRST), n),
    )
    last = rng.integers(0, len(tables.LAST_NAMES), n)
    no_name = rng.random(n) < 0.02

    email_domain = np.where(
        commercial,
        -2 - rng.integers(0, len(tables.BUSINESS_DOMAINS), n),
        rng.choice(len(tables.EMAIL_DOMAINS), size=n, p=tables.EMAIL_DOMAIN_WEIGHTS),
    )
    # Store-acquired customers more often left no e-mail address.
    acquisition = sample_rows(rng, kinds.table("acquisition")[a])
    store = acquisition == enums.ACQUISITION_CHANNELS.index("store")
    email_domain[rng.random(n) < np.where(store, 0.2, 0.05)] = -1
    email_domain[no_name] = -1  # no name on file, no address to build either
    email_number = np.where(rng.random(n) < 0.6, rng.integers(1, 100, n), 0)

    city = rng.choice(len(tables.CITIES), size=n, p=CITY_SHARES)

    profession = np.full(n, -1, dtype=np.int32)
    by_archetype = {
        "joe": tables.PROFESSIONS_JOE,
        "sarah": tables.PROFESSIONS_SARAH,
        "commercial": tables.PROFESSIONS_COMMERCIAL,
    }
    for i, name in enumerate(kinds.names):
        members = np.flatnonzero(a == i)
        choices = np.array([PROFESSIONS.index(p) for p in by_archetype.get(name, tables.PROFESSIONS_GENERAL)])
        profession[members] = choices[rng.integers(0, len(choices), len(members))]

    # Joe-like buyers are loyal to a premium brand; everyone else has a favourite among all brands.
    favourite = np.where(
        kinds.table("premium_loyal")[a] > 0,
        rng.integers(0, tables.PREMIUM_BRANDS, n),
        rng.integers(0, len(tables.BRANDS), n),
    )
    return Customers(
        archetype=a,
        signup_us=signup_us,
        active_from=np.maximum(signup_day, 0.0),
        active_to=lapse_end.astype(float),
        activity=rng.gamma(2.0, 0.5, n),
        first_name=np.where(no_name, -1, first).astype(np.int16),
        last_name=np.where(no_name, -1, last).astype(np.int16),
        email_domain=email_domain.astype(np.int16),
        email_number=email_number.astype(np.int16),
        birth_year=birth_year,
        gender=with_missing(rng, gender, 0.04),
        city=with_missing(rng, city, 0.03),
        region_missing=rng.random(n) < 0.05,
        country_missing=rng.random(n) < 0.02,
        income=with_missing(rng, sample_rows(rng, kinds.table("income")[a]), 0.15),
        profession=with_missing(rng, profession, 0.15),
        web=with_missing(rng, sample_rows(rng, kinds.table("web")[a]), 0.1),
        acquisition=with_missing(rng, acquisition, 0.05),
        signup_date_missing=rng.random(n) < 0.03,
        favourite_brand=favourite.astype(np.int16),
        kinds=kinds,
    )


def make_catalogue(rng: np.random.Generator, n_customers: int) -> Catalogue:
    n = int(np.clip(150 + n_customers // 400, 150, 3000))
    category_weights = np.array([1.0, 0.8, 0.8, 1.4, 1.2, 1.6, 1.0, 0.8, 0.8, 0.8])
    category = rng.choice(len(tables.CATEGORIES), size=n, p=category_weights / category_weights.sum())
    brand = rng.integers(0, len(tables.BRANDS), n)
    # Every category and every brand has at least one product, so picks by either never come up empty.
    category[: len(tables.CATEGORIES)] = np.arange(len(tables.CATEGORIES))
    brand[: len(tables.BRANDS)] = np.arange(len(tables.BRANDS))
    median = np.array([c[1] for c in tables.CATEGORIES])[category]
    tier = np.array([b[1] for b in tables.BRANDS])[brand]
    price = np.maximum(np.floor(median * tier * rng.lognormal(0.0, 0.35, n)), 1.0) + 0.99
    cost = (price * rng.uniform(0.45, 0.72, n)).round(2)

    by_category = np.lexsort((price, category))
    by_brand = np.argsort(brand, kind="stable")
    return Catalogue(
        category=category.astype(np.int16),
        brand=brand.astype(np.int16),
        price=price,
        cost=cost,
        model=rng.integers(100, 999, n).astype(np.int16),
        name_missing=rng.random(n) < 0.01,
        brand_missing=rng.random(n) < 0.02,
        price_missing=rng.random(n) < 0.01,
        by_category=by_category,
        category_start=np.searchsorted(category[by_category], np.arange(len(tables.CATEGORIES))),
        category_count=np.bincount(category, minlength=len(tables.CATEGORIES)),
        by_brand=by_brand,
        brand_start=np.searchsorted(brand[by_brand], np.arange(len(tables.BRANDS))),
        brand_count=np.bincount(brand, minlength=len(tables.BRANDS)),
    )


def _poisson_times(
    rng: np.random.Generator, rate_per_day: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A Poisson process per customer on [start, end): (customer index, day as float) per event."""
    span = np.maximum(end - start, 0.0)
    counts = rng.poisson(rate_per_day * span)
    who = np.repeat(np.arange(len(span), dtype=np.int32), counts)
    return who, start[who] + rng.random(len(who)) * span[who]


def _time_of_day_us(rng: np.random.Generator, channel: np.ndarray) -> np.ndarray:
    """Seconds into the UTC day by channel: shops and phone lines have opening hours, the web peaks in the evening."""
    n = len(channel)
    store = rng.uniform(8.0, 18.5, n)  # 10:00–20:30 Paris time in summer
    phone = rng.uniform(7.0, 17.0, n)
    evening = np.clip(rng.normal(19.0, 2.5, n), 0.0, 23.99)
    online = np.where(rng.random(n) < 0.6, evening, rng.uniform(0.0, 24.0, n))
    hours = np.select([channel == ORDER_STORE, channel == ORDER_PHONE], [store, phone], online)
    return (hours * 3600).astype(np.int64) * SECOND_US


def _to_us(window: Window, day: np.ndarray, time_us: np.ndarray) -> np.ndarray:
    return window.start_us + np.floor(day).astype(np.int64) * DAY_US + time_us


def make_orders(rng: np.random.Generator, customers: Customers, window: Window) -> Events:
    a, kinds = customers.archetype, customers.kinds
    commercial = kinds.table("cadence")[a] > 0
    rate = np.where(commercial, 0.0, kinds.table("orders_per_year")[a] / 365.0 * customers.activity)
    who, day = _poisson_times(rng, rate, customers.active_from, customers.active_to)

    # Seasonal buyers (Joe: half of his orders) buy in the run-up to Christmas.
    joe = rng.random(len(who)) < kinds.table("seasonal")[a[who]]
    dates = np.datetime64(window.start) + np.floor(day[joe]).astype("timedelta64[D]")
    year = dates.astype("datetime64[Y]")
    december = year.astype("datetime64[M]") + np.timedelta64(11, "M")
    december = np.where(
        dates > december.astype("datetime64[D]") + 23, december + np.timedelta64(12, "M"), december
    )
    snapped = (december.astype("datetime64[D]") + rng.integers(0, 24, joe.sum())).astype(np.int64)
    snapped_day = (snapped - np.datetime64(window.start).astype(np.int64)).astype(float)
    keep = (snapped_day >= customers.active_from[who[joe]]) & (snapped_day < customers.active_to[who[joe]])
    day[np.flatnonzero(joe)[keep]] = snapped_day[keep]

    # Business buyers reorder on a cadence (every 4–6 weeks), on working days.
    c_idx = np.flatnonzero(commercial)
    period = rng.choice([28.0, 35.0, 42.0], size=len(c_idx), p=[0.4, 0.35, 0.25])
    phase = rng.uniform(0, period)
    span = customers.active_to[c_idx] - customers.active_from[c_idx] - phase
    counts = np.where(span > 0, np.floor(span / period).astype(np.int64) + 1, 0)
    c_who = np.repeat(c_idx, counts).astype(np.int32)
    k = np.arange(len(c_who)) - np.repeat(np.cumsum(counts) - counts, counts)
    c_day = (
        customers.active_from[c_who]
        + np.repeat(phase, counts)
        + k * np.repeat(period, counts)
        + rng.normal(0, 1.5, len(c_who))
    )
    weekday = (np.floor(c_day).astype(np.int64) + window.start.weekday()) % 7  # 0 = Monday
    c_day = c_day + np.where(weekday >= 5, 7 - weekday, 0)
    keep = (
        (rng.random(len(c_who)) > 0.05)
        & (c_day >= customers.active_from[c_who])
        & (c_day < customers.active_to[c_who])
    )
    who = np.concatenate([who, c_who[keep]])
    day = np.concatenate([day, c_day[keep]])

    channel = sample_rows(rng, kinds.table("channel")[a[who]])
    ts = _to_us(window, day, _time_of_day_us(rng, channel))
    # An order placed on the signup day cannot come before the signup itself.
    ts = np.maximum(ts, customers.signup_us[who])
    return Events.sorted(window, who, ts, channel)


def make_surveys(rng: np.random.Generator, customers: Customers, window: Window) -> Events:
    """Survey responses; `kind` is the archetype the answers are drawn from (anonymous ones too)."""
    a, kinds = customers.archetype, customers.kinds
    rate = kinds.table("surveys_per_year")[a] / 365.0
    end = np.full(len(a), float(window.days))
    who, day = _poisson_times(rng, rate, customers.active_from, end)
    # About 15% of responses are anonymous: drawn from the same mix of people, without an id.
    n_anon = int(round(len(who) * 0.15 / 0.85))
    anon_arch = rng.choice(len(kinds), size=n_anon, p=kinds.shares)
    anon_day = rng.uniform(0, window.days, n_anon)
    customer = np.concatenate([who, np.full(n_anon, -1, dtype=np.int32)])
    kind = np.concatenate([a[who], anon_arch])
    day = np.concatenate([day, anon_day])
    ts = _to_us(window, day, (rng.uniform(6.0, 23.0, len(day)) * 3600).astype(np.int64) * SECOND_US)
    ts = np.where(customer >= 0, np.maximum(ts, customers.signup_us[np.maximum(customer, 0)]), ts)
    return Events.sorted(window, customer, ts, kind)


@dataclass
class SocialAccounts:
    customer: np.ndarray
    platform: np.ndarray
    followers: np.ndarray  # at the first observation
    following: np.ndarray
    brands_followed: np.ndarray
    growth: np.ndarray  # follower growth per observation
    handle_number: np.ndarray


SOCIAL_EVERY_DAYS = 180.0  # accounts are re-observed twice a year


def make_social(
    rng: np.random.Generator, customers: Customers, window: Window
) -> tuple[SocialAccounts, Events]:
    """Social accounts (one or two platforms per customer who has any) and their observations.

    Observation events store the account index in `customer` and the observation number in `kind`.
    """
    a, kinds = customers.archetype, customers.kinds
    has = rng.random(len(a)) < kinds.table("social")[a]
    owners = np.flatnonzero(has)
    n_platforms = 1 + (rng.random(len(owners)) < 0.35)
    owner = np.repeat(owners, n_platforms)
    platform = sample_rows(rng, kinds.table("platform")[a[owner]])
    # A second draw of the same platform is dropped: the key is (customer, platform, observed_at).
    pairs = np.unique(owner.astype(np.int64) * 16 + platform)
    owner, platform = (pairs // 16).astype(np.int32), (pairs % 16).astype(np.int16)
    oa = a[owner]
    n = len(owner)
    accounts = SocialAccounts(
        customer=owner,
        platform=platform,
        followers=rng.lognormal(
            np.log(kinds.table("followers_median")[oa]), kinds.table("followers_sigma")[oa]
        ),
        following=rng.lognormal(np.log(300.0), 0.7, n),
        brands_followed=rng.lognormal(np.log(kinds.table("brands_followed_median")[oa]), 0.5),
        growth=rng.normal(0.05, 0.05, n),
        handle_number=rng.integers(0, 1000, n).astype(np.int16),
    )
    start = customers.active_from[owner]
    phase = rng.uniform(0, SOCIAL_EVERY_DAYS, n)
    counts = np.maximum(np.ceil((window.days - start - phase) / SOCIAL_EVERY_DAYS), 0).astype(np.int64)
    account = np.repeat(np.arange(n, dtype=np.int32), counts)
    k = np.arange(len(account)) - np.repeat(np.cumsum(counts) - counts, counts)
    day = start[account] + phase[account] + k * SOCIAL_EVERY_DAYS
    ts = _to_us(
        window, day, (rng.uniform(1.0, 5.0, len(day)) * 3600).astype(np.int64) * SECOND_US
    )  # nightly scrape
    return accounts, Events.sorted(window, account, ts, k)


def make_tickets(rng: np.random.Generator, customers: Customers, window: Window) -> Events:
    a = customers.archetype
    rate = customers.kinds.table("tickets_per_year")[a] / 365.0
    end = np.minimum(customers.active_to + 30.0, window.days)  # lapsed customers stop calling too
    who, day = _poisson_times(rng, rate, customers.active_from, end)
    ts = _to_us(window, day, (rng.uniform(6.0, 20.0, len(day)) * 3600).astype(np.int64) * SECOND_US)
    ts = np.maximum(ts, customers.signup_us[who])
    return Events.sorted(window, who, ts, a[who])
