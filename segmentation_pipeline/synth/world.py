"""The simulated world behind the landing files: its customers and catalogue (their events: events.py)."""

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


@dataclass
class SocialAccounts:
    customer: np.ndarray
    platform: np.ndarray
    followers: np.ndarray  # at the first observation
    following: np.ndarray
    brands_followed: np.ndarray
    growth: np.ndarray  # follower growth per observation
    handle_number: np.ndarray
