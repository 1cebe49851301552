"""The sample world's events: orders, survey responses, social observations and service tickets of its
customers, over the window (each customer's archetype drives their rates and choices)."""

from __future__ import annotations

import numpy as np

from segmentation_pipeline.synth.world import (
    DAY_US,
    ORDER_PHONE,
    ORDER_STORE,
    SECOND_US,
    Customers,
    Events,
    SocialAccounts,
    Window,
    sample_rows,
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
