"""The planted customer archetypes: their share of the population and how each one behaves."""

# Every probability vector follows the order of the matching list in `contracts.enums` (or the
# category list in `tables.CATEGORIES`). Values are plausible, not measured: chosen so archetypes
# differ the way the personas of the source articles do (Joe, Sarah, the bargain hunter, the
# customer who costs more to serve than they bring…), with enough overlap to need a real model.

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


@dataclass(frozen=True)
class Archetype:
    name: str
    share: float
    # Demographics
    existing_share: float  # signed up before the generated window (lands in the first snapshot)
    age: tuple[float, float]  # mean, sd
    gender: tuple[float, ...]  # female, male, other, unknown
    income: tuple[float, ...]  # lt_20k … gt_100k
    web: tuple[float, ...]  # low, average, high
    acquisition: tuple[float, ...]
    # Ordering
    orders_per_year: float  # 0 = never orders; commercial buyers use a regular cadence instead
    extra_lines: float  # lines per order = 1 + Poisson(extra_lines)
    channel: tuple[float, ...]  # online, store, phone
    price_band: tuple[float, float]  # where in a category's price ladder they shop (0 = cheapest)
    brand_loyalty: float  # probability a line is from the customer's favourite brand
    categories: tuple[float, ...]
    extra_quantity: float  # quantity = 1 + Poisson(extra_quantity) (commercial: lognormal, below)
    discount: tuple[float, float, float]  # probability a line is discounted, min rate, max rate
    returned: float
    cancelled: float
    occasion: tuple[float, ...]  # none, gift, holiday, birthday, special_event
    late: tuple[float, float]  # probability an order is paid late, mean days late
    # Social networks
    social: float  # probability of a known social account
    platform: tuple[float, ...]
    followers_median: float
    followers_sigma: float
    brands_followed_median: float
    mentions_90d: float
    engagement: tuple[float, float]  # Beta(a, b)
    # Service
    tickets_per_year: float
    effort_mean: float
    resolution_median_min: float
    resolved: float
    service_channel: tuple[float, ...]  # email, phone, chat, social, store
    # Surveys
    surveys_per_year: float
    discovery: tuple[float, ...]
    motivation: tuple[float, ...]
    barrier: tuple[float, ...]
    importance: tuple[float, ...]  # mean answer for price, brand, reviews, features, service
    perception: tuple[float, ...]
    satisfaction_mean: float
    # Behaviours beyond rates and mixes (the default world gives each to one named archetype)
    lapses: bool  # stops ordering somewhere before the last ~6 months of the window
    cadence: bool  # business buyer: regular reorders, bulk quantities, business e-mail
    seasonal: float  # share of orders moved to the run-up to Christmas
    premium_loyal: bool  # the favourite brand is a premium one


_MIXED_CATEGORIES = (0.1, 0.08, 0.06, 0.16, 0.13, 0.15, 0.1, 0.1, 0.04, 0.08)
_GENDER_MIX = (0.5, 0.47, 0.015, 0.015)
_OCCASION_EVERYDAY = (0.8, 0.08, 0.05, 0.05, 0.02)
_PLATFORM_MIX = (0.15, 0.3, 0.3, 0.08, 0.07, 0.08, 0.02)
_SERVICE_MIX = (0.35, 0.3, 0.2, 0.05, 0.1)
_DISCOVERY_MIX = (0.2, 0.18, 0.22, 0.15, 0.15, 0.05, 0.05)

_COMMON = dict(
    gender=_GENDER_MIX,
    extra_lines=0.8,
    price_band=(0.0, 1.0),
    brand_loyalty=0.3,
    categories=_MIXED_CATEGORIES,
    extra_quantity=0.15,
    discount=(0.12, 0.05, 0.25),
    returned=0.05,
    cancelled=0.02,
    occasion=_OCCASION_EVERYDAY,
    late=(0.02, 6.0),
    social=0.32,
    platform=_PLATFORM_MIX,
    followers_median=150.0,
    followers_sigma=1.1,
    brands_followed_median=15.0,
    mentions_90d=0.25,
    engagement=(2.0, 90.0),
    tickets_per_year=0.35,
    effort_mean=3.2,
    resolution_median_min=60.0,
    resolved=0.94,
    service_channel=_SERVICE_MIX,
    surveys_per_year=0.25,
    discovery=_DISCOVERY_MIX,
    lapses=False,
    cadence=False,
    seasonal=0.0,
    premium_loyal=False,
)


def _archetype(**overrides: object) -> Archetype:
    return Archetype(**{**_COMMON, **overrides})  # type: ignore[arg-type]


ARCHETYPES: list[Archetype] = [
    _archetype(
        name="joe",  # 37, researches online, buys in store, brand-loyal, special occasions
        share=0.12,
        existing_share=0.6,
        age=(38.0, 2.5),
        gender=(0.1, 0.88, 0.01, 0.01),
        income=(0.0, 0.05, 0.3, 0.4, 0.25),
        web=(0.1, 0.8, 0.1),
        acquisition=(0.05, 0.15, 0.3, 0.0, 0.45, 0.02, 0.03),
        orders_per_year=2.5,
        extra_lines=1.6,
        channel=(0.12, 0.85, 0.03),
        price_band=(0.5, 1.0),
        brand_loyalty=0.85,
        categories=(0.2, 0.15, 0.15, 0.15, 0.02, 0.08, 0.08, 0.05, 0.02, 0.1),
        extra_quantity=0.25,
        discount=(0.03, 0.05, 0.15),
        returned=0.03,
        occasion=(0.0, 0.35, 0.25, 0.25, 0.15),
        social=0.0,
        tickets_per_year=0.3,
        effort_mean=2.8,
        service_channel=(0.1, 0.35, 0.05, 0.0, 0.5),
        surveys_per_year=0.2,
        discovery=(0.05, 0.2, 0.35, 0.0, 0.35, 0.03, 0.02),
        motivation=(0.02, 0.3, 0.5, 0.1, 0.03, 0.03, 0.01, 0.01),
        barrier=(0.05, 0.05, 0.1, 0.05, 0.05, 0.02, 0.65, 0.03),
        importance=(2.0, 4.8, 3.5, 3.5, 4.2),
        perception=(0.5, 0.1, 0.3, 0.07, 0.01, 0.02),
        satisfaction_mean=8.6,
        seasonal=0.5,
        premium_loyal=True,
    ),
    _archetype(
        name="sarah",  # 19, very web-savvy, small frequent online orders, 3,000 followers
        share=0.15,
        existing_share=0.35,
        age=(19.5, 1.2),
        gender=(0.88, 0.1, 0.01, 0.01),
        income=(0.75, 0.2, 0.05, 0.0, 0.0),
        web=(0.0, 0.05, 0.95),
        acquisition=(0.1, 0.1, 0.1, 0.6, 0.02, 0.03, 0.05),
        orders_per_year=7.5,
        extra_lines=0.2,
        channel=(0.96, 0.03, 0.01),
        price_band=(0.0, 0.5),
        brand_loyalty=0.15,
        categories=(0.08, 0.05, 0.02, 0.05, 0.3, 0.35, 0.08, 0.05, 0.0, 0.02),
        discount=(0.25, 0.1, 0.3),
        returned=0.09,
        social=0.92,
        platform=(0.05, 0.5, 0.03, 0.4, 0.0, 0.02, 0.0),
        followers_median=3000.0,
        followers_sigma=0.45,
        brands_followed_median=110.0,
        mentions_90d=5.0,
        engagement=(6.0, 90.0),
        tickets_per_year=0.4,
        service_channel=(0.15, 0.02, 0.5, 0.33, 0.0),
        surveys_per_year=0.3,
        discovery=(0.08, 0.1, 0.07, 0.7, 0.02, 0.01, 0.02),
        motivation=(0.1, 0.1, 0.15, 0.02, 0.2, 0.13, 0.28, 0.02),
        barrier=(0.15, 0.05, 0.05, 0.05, 0.45, 0.05, 0.18, 0.02),
        importance=(3.0, 3.0, 4.8, 3.5, 2.5),
        perception=(0.1, 0.55, 0.15, 0.12, 0.05, 0.03),
        satisfaction_mean=8.0,
    ),
    _archetype(
        name="bargain_hunter",  # buys on price and promotions
        share=0.18,
        existing_share=0.55,
        age=(36.0, 12.0),
        income=(0.35, 0.4, 0.2, 0.04, 0.01),
        web=(0.15, 0.45, 0.4),
        acquisition=(0.45, 0.08, 0.15, 0.1, 0.07, 0.12, 0.03),
        orders_per_year=3.2,
        extra_lines=0.9,
        channel=(0.7, 0.27, 0.03),
        price_band=(0.0, 0.7),
        brand_loyalty=0.05,
        discount=(0.75, 0.15, 0.5),
        returned=0.06,
        mentions_90d=0.8,
        tickets_per_year=0.4,
        discovery=(0.5, 0.08, 0.2, 0.1, 0.05, 0.04, 0.03),
        motivation=(0.8, 0.05, 0.02, 0.02, 0.08, 0.02, 0.0, 0.01),
        barrier=(0.8, 0.03, 0.03, 0.02, 0.05, 0.02, 0.04, 0.01),
        importance=(4.9, 1.8, 3.5, 2.5, 2.5),
        perception=(0.15, 0.05, 0.05, 0.6, 0.1, 0.05),
        satisfaction_mean=6.8,
    ),
    _archetype(
        name="high_maintenance",  # many tickets, high effort, many returns
        share=0.08,
        existing_share=0.55,
        age=(46.0, 13.0),
        income=(0.15, 0.3, 0.3, 0.15, 0.1),
        web=(0.4, 0.45, 0.15),
        acquisition=(0.2, 0.15, 0.2, 0.1, 0.2, 0.1, 0.05),
        orders_per_year=3.0,
        channel=(0.55, 0.3, 0.15),
        returned=0.3,
        mentions_90d=1.2,
        tickets_per_year=6.0,
        effort_mean=7.8,
        resolution_median_min=300.0,
        resolved=0.75,
        service_channel=(0.35, 0.45, 0.12, 0.05, 0.03),
        surveys_per_year=0.4,
        motivation=(0.1, 0.15, 0.05, 0.5, 0.1, 0.05, 0.03, 0.02),
        barrier=(0.1, 0.1, 0.4, 0.02, 0.25, 0.03, 0.05, 0.05),
        importance=(3.0, 2.5, 3.5, 3.0, 4.8),
        perception=(0.1, 0.05, 0.05, 0.4, 0.35, 0.05),
        satisfaction_mean=3.8,
    ),
    _archetype(
        name="late_payer",  # pays late, often orders by phone
        share=0.07,
        existing_share=0.55,
        age=(41.0, 11.0),
        income=(0.3, 0.4, 0.2, 0.07, 0.03),
        web=(0.45, 0.4, 0.15),
        acquisition=(0.2, 0.15, 0.15, 0.05, 0.3, 0.1, 0.05),
        orders_per_year=3.0,
        channel=(0.3, 0.3, 0.4),
        cancelled=0.05,
        late=(0.6, 25.0),
        social=0.25,
        tickets_per_year=1.0,
        effort_mean=5.0,
        motivation=(0.35, 0.1, 0.05, 0.1, 0.3, 0.05, 0.03, 0.02),
        barrier=(0.2, 0.05, 0.05, 0.02, 0.05, 0.55, 0.05, 0.03),
        importance=(4.0, 2.5, 3.0, 3.0, 3.0),
        perception=(0.25, 0.1, 0.1, 0.4, 0.1, 0.05),
        satisfaction_mean=6.2,
    ),
    _archetype(
        name="lapsed",  # active early in the window, then no orders in the last ~6 months
        share=0.15,
        existing_share=0.9,
        age=(43.0, 14.0),
        income=(0.2, 0.3, 0.3, 0.12, 0.08),
        web=(0.3, 0.45, 0.25),
        acquisition=(0.25, 0.15, 0.2, 0.1, 0.2, 0.05, 0.05),
        orders_per_year=4.5,
        channel=(0.55, 0.4, 0.05),
        discount=(0.15, 0.05, 0.25),
        social=0.3,
        tickets_per_year=0.5,
        motivation=(0.3, 0.2, 0.1, 0.1, 0.15, 0.1, 0.03, 0.02),
        barrier=(0.3, 0.3, 0.1, 0.05, 0.1, 0.02, 0.1, 0.03),
        importance=(3.8, 2.5, 3.0, 3.5, 3.0),
        perception=(0.1, 0.05, 0.05, 0.35, 0.4, 0.05),
        satisfaction_mean=5.0,
        lapses=True,
    ),
    _archetype(
        name="commercial",  # business buyers: large recurring baskets on a regular cadence
        share=0.05,
        existing_share=0.7,
        age=(44.0, 9.0),
        gender=(0.45, 0.45, 0.0, 0.1),
        income=(0.05, 0.25, 0.4, 0.2, 0.1),
        web=(0.15, 0.6, 0.25),
        acquisition=(0.1, 0.3, 0.1, 0.0, 0.1, 0.4, 0.0),
        orders_per_year=12.0,
        extra_lines=1.0,
        channel=(0.5, 0.05, 0.45),
        brand_loyalty=0.5,
        categories=(0.03, 0.1, 0.2, 0.05, 0.0, 0.0, 0.0, 0.0, 0.6, 0.02),
        discount=(0.6, 0.05, 0.15),
        returned=0.02,
        late=(0.15, 15.0),
        social=0.4,
        platform=(0.05, 0.02, 0.05, 0.0, 0.85, 0.03, 0.0),
        followers_median=500.0,
        tickets_per_year=1.0,
        service_channel=(0.6, 0.35, 0.05, 0.0, 0.0),
        discovery=(0.08, 0.45, 0.15, 0.02, 0.05, 0.2, 0.05),
        motivation=(0.15, 0.15, 0.05, 0.15, 0.25, 0.22, 0.02, 0.01),
        barrier=(0.25, 0.2, 0.05, 0.02, 0.25, 0.1, 0.1, 0.03),
        importance=(3.5, 2.5, 2.5, 4.8, 4.0),
        perception=(0.55, 0.1, 0.2, 0.1, 0.03, 0.02),
        satisfaction_mean=7.5,
        cadence=True,
    ),
    _archetype(
        name="regular",  # the ordinary loyal customer, no strong trait
        share=0.10,
        existing_share=0.65,
        age=(45.0, 14.0),
        income=(0.15, 0.3, 0.33, 0.14, 0.08),
        web=(0.25, 0.5, 0.25),
        acquisition=(0.15, 0.2, 0.2, 0.1, 0.25, 0.05, 0.05),
        orders_per_year=2.8,
        channel=(0.5, 0.45, 0.05),
        brand_loyalty=0.35,
        motivation=(0.15, 0.3, 0.12, 0.1, 0.15, 0.1, 0.05, 0.03),
        barrier=(0.2, 0.1, 0.1, 0.05, 0.15, 0.05, 0.3, 0.05),
        importance=(3.2, 3.0, 3.2, 3.2, 3.2),
        perception=(0.35, 0.15, 0.15, 0.25, 0.05, 0.05),
        satisfaction_mean=7.5,
    ),
    _archetype(
        name="prospect",  # signed up (newsletter, loyalty card) but never ordered
        share=0.10,
        existing_share=0.3,
        age=(33.0, 12.0),
        income=(0.3, 0.3, 0.25, 0.1, 0.05),
        web=(0.2, 0.45, 0.35),
        acquisition=(0.3, 0.1, 0.25, 0.25, 0.05, 0.03, 0.02),
        orders_per_year=0.0,
        channel=(0.5, 0.45, 0.05),
        social=0.3,
        tickets_per_year=0.1,
        surveys_per_year=0.15,
        motivation=(0.3, 0.2, 0.1, 0.05, 0.15, 0.1, 0.07, 0.03),
        barrier=(0.25, 0.1, 0.25, 0.25, 0.05, 0.03, 0.05, 0.02),
        importance=(3.8, 2.8, 4.0, 3.3, 3.0),
        perception=(0.1, 0.1, 0.1, 0.2, 0.05, 0.45),
        satisfaction_mean=6.5,
    ),
]

# Fields holding pairs or fixed-meaning tuples rather than probability vectors.
_NOT_PROBABILITIES = {"age", "price_band", "discount", "late", "engagement", "importance"}


class ArchetypeSet:
    """The archetypes of one world, with their parameters stacked per field for vectorised draws."""

    def __init__(self, archetypes: list[Archetype]) -> None:
        self.archetypes = list(archetypes)
        self.names = [a.name for a in self.archetypes]
        self.index = {name: i for i, name in enumerate(self.names)}
        self.shares = np.array([a.share for a in self.archetypes])
        if abs(self.shares.sum() - 1.0) > 1e-9:
            raise ValueError(f"archetype shares must sum to 1, not {self.shares.sum()}")
        self._tables: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.archetypes)

    def table(self, field: str) -> np.ndarray:
        """One parameter for every archetype, stacked: row i belongs to archetype i.

        Probability vectors are normalised so small rounding in the literals does not matter.
        """
        if field not in self._tables:
            if field not in {f.name for f in fields(Archetype)}:
                raise KeyError(field)
            values = np.array([getattr(a, field) for a in self.archetypes], dtype=float)
            if values.ndim == 2 and field not in _NOT_PROBABILITIES:
                values = values / values.sum(axis=1, keepdims=True)
            self._tables[field] = values
        return self._tables[field]


DEFAULT = ArchetypeSet(ARCHETYPES)
NAMES = DEFAULT.names
INDEX = DEFAULT.index
SHARES = DEFAULT.shares
table = DEFAULT.table
