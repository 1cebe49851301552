"""Random worlds: K archetypes with random, plausible trait profiles, to test segmentation on worlds it was not tuned on."""

# Each archetype starts from the default world's ordinary customer ("regular": no strong trait),
# jittered, and deviates in 2 or 3 buying behaviours drawn at random (channel, basket, frequency,
# lapsing, discounts, occasions, payment, returns, brand and category habits, business buying),
# which every order shows, and in 0 to 2 context traits (service effort, social reach, survey
# answers, demographics), which only some customers show (not all have tickets, accounts or
# survey answers; age and web savviness are sometimes unknown). How far a trait deviates is drawn too, so two
# archetypes that share a trait overlap more or less strongly. Sizes are random with a 3% floor;
# whole sources are missing for some customers (no survey, no social account, no ticket) at
# rates that vary by archetype. A non-buying "prospect" archetype (signups without orders) comes
# on top of the K buying ones, as in every real customer base.

from __future__ import annotations

import dataclasses

import numpy as np

from segmentation_pipeline.contracts import enums
from segmentation_pipeline.synth import archetypes as arch
from segmentation_pipeline.synth import tables

MIN_ARCHETYPES, MAX_ARCHETYPES = 3, 12
MIN_SHARE = 0.03
PROSPECT = "prospect"
_BASE = arch.ARCHETYPES[arch.INDEX["regular"]]

# Trait -> relative chance of being one an archetype deviates in. Business buying reshapes every
# order (bulk quantities, cadence), so it is drawn rarely, as such customers are rare.
BEHAVIOUR_WEIGHTS = {
    "channel": 1.0,
    "basket": 1.0,
    "frequency": 1.0,
    "lapse": 0.6,
    "discount": 1.0,
    "occasion": 0.8,
    "payment": 0.8,
    "returns": 0.6,
    "brand": 0.8,
    "business": 0.25,
}
CONTEXT_WEIGHTS = {"service": 1.0, "social": 1.0, "survey": 1.0, "demographics": 1.0}


def _peaked(rng: np.random.Generator, size: int, peak: float | None = None) -> tuple[float, ...]:
    """A probability vector with most of its mass (`peak`, random if None) on one random entry."""
    top = rng.integers(0, size)
    peak = rng.uniform(0.5, 0.85) if peak is None else peak
    rest = rng.dirichlet(np.ones(size - 1)) * (1.0 - peak)
    return tuple(float(v) for v in np.insert(rest, top, peak))


def _jittered(
    rng: np.random.Generator, probs: tuple[float, ...], concentration: float = 60.0
) -> tuple[float, ...]:
    """A draw near `probs` (Dirichlet around it): archetypes that do not differ in a trait still vary a little."""
    p = np.asarray(probs, dtype=float) + 1e-3
    return tuple(float(v) for v in rng.dirichlet(p / p.sum() * concentration))


def _neutral(rng: np.random.Generator) -> dict[str, object]:
    """The ordinary customer with small random variations (every trait an archetype does not deviate in)."""
    b = _BASE
    return dict(
        existing_share=rng.uniform(0.3, 0.8),
        age=(rng.uniform(38.0, 48.0), rng.uniform(11.0, 15.0)),
        gender=_jittered(rng, b.gender),
        income=_jittered(rng, b.income),
        web=_jittered(rng, b.web),
        acquisition=_jittered(rng, b.acquisition),
        orders_per_year=b.orders_per_year * rng.uniform(0.8, 1.25),
        extra_lines=b.extra_lines * rng.uniform(0.8, 1.25),
        channel=_jittered(rng, b.channel),
        categories=_jittered(rng, b.categories),
        discount=(rng.uniform(0.08, 0.16), 0.05, 0.25),
        returned=rng.uniform(0.03, 0.07),
        occasion=_jittered(rng, b.occasion),
        late=(rng.uniform(0.01, 0.04), 6.0),
        social=rng.uniform(0.2, 0.4),
        tickets_per_year=rng.uniform(0.2, 0.5),
        surveys_per_year=rng.uniform(0.15, 0.35),
        motivation=_jittered(rng, b.motivation),
        barrier=_jittered(rng, b.barrier),
        discovery=_jittered(rng, b.discovery),
        importance=tuple(float(v) for v in np.clip(np.asarray(b.importance) + rng.normal(0, 0.2, 5), 1, 5)),
        perception=_jittered(rng, b.perception),
        satisfaction_mean=rng.uniform(6.5, 8.0),
    )


def _deviation(rng: np.random.Generator, trait: str) -> tuple[str, dict[str, object]]:
    """(a short label, the parameters it overrides) for one trait an archetype stands out in."""
    if trait == "channel":
        top = int(rng.integers(0, 3))
        return f"mostly_{enums.ORDER_CHANNELS[top]}", {
            "channel": _one_hot_mix(rng, 3, top, rng.uniform(0.8, 0.97))
        }
    if trait == "basket":
        if rng.random() < 0.5:
            return "big_baskets", dict(extra_lines=rng.uniform(1.5, 3.0), extra_quantity=rng.uniform(0.4, 1.2),
                                       price_band=(rng.uniform(0.4, 0.6), 1.0))  # fmt: skip
        return "small_baskets", dict(extra_lines=rng.uniform(0.0, 0.2), extra_quantity=0.05,
                                     price_band=(0.0, rng.uniform(0.3, 0.5)))  # fmt: skip
    if trait == "frequency":
        if rng.random() < 0.5:
            return "frequent", {"orders_per_year": rng.uniform(8.0, 15.0)}
        return "rare", {"orders_per_year": rng.uniform(1.0, 1.6)}
    if trait == "lapse":
        return "lapsed", {"lapses": True, "existing_share": rng.uniform(0.8, 0.95)}
    if trait == "discount":
        return "discount", {
            "discount": (rng.uniform(0.6, 0.95), rng.uniform(0.1, 0.2), rng.uniform(0.3, 0.5))
        }
    if trait == "occasion":
        none = rng.uniform(0.05, 0.3)
        mix = rng.dirichlet(np.ones(4)) * (1.0 - none)
        return "occasions", {"occasion": (none, *mix.tolist()), "seasonal": rng.uniform(0.0, 0.5)}
    if trait == "payment":
        return "late_payer", {"late": (rng.uniform(0.5, 0.85), rng.uniform(12.0, 30.0)),
                              "cancelled": rng.uniform(0.04, 0.08)}  # fmt: skip
    if trait == "service":
        return "high_effort", dict(tickets_per_year=rng.uniform(2.5, 8.0), effort_mean=rng.uniform(6.0, 8.5),
                                   resolution_median_min=rng.uniform(150.0, 400.0), resolved=rng.uniform(0.7, 0.85))  # fmt: skip
    if trait == "returns":
        return "returns", {"returned": rng.uniform(0.25, 0.4)}
    if trait == "social":
        if rng.random() < 0.25:
            return "offline", {"social": 0.0}  # a whole source missing for these customers
        return "social", dict(social=rng.uniform(0.8, 0.97), followers_median=float(np.exp(rng.uniform(7.0, 10.0))),
                              followers_sigma=rng.uniform(0.4, 0.8), mentions_90d=rng.uniform(2.0, 8.0),
                              engagement=(rng.uniform(4.0, 8.0), 90.0), platform=_peaked(rng, len(enums.SOCIAL_PLATFORMS)))  # fmt: skip
    if trait == "survey":
        top = int(rng.integers(0, 5))
        importance = np.clip(rng.normal(3.0, 0.4, 5), 1.5, 4.0)
        importance[top] = rng.uniform(4.5, 4.9)
        return f"cares_{enums.IMPORTANCE_COLUMNS[top].removeprefix('importance_')}", dict(
            surveys_per_year=rng.uniform(0.3, 0.7), motivation=_peaked(rng, len(enums.MOTIVATIONS)),
            barrier=_peaked(rng, len(enums.BARRIERS)), discovery=_peaked(rng, len(enums.DISCOVERY_CHANNELS)),
            perception=_peaked(rng, len(enums.BRAND_PERCEPTIONS)), importance=tuple(importance.tolist()),
            satisfaction_mean=rng.uniform(3.5, 9.0),
        )  # fmt: skip
    if trait == "demographics":
        young = rng.random() < 0.5
        age = (
            (rng.uniform(19.0, 28.0), rng.uniform(2.0, 5.0))
            if young
            else (rng.uniform(55.0, 70.0), rng.uniform(3.0, 6.0))
        )
        web = _one_hot_mix(rng, 3, 2 if young else 0, rng.uniform(0.6, 0.9))
        return "young" if young else "senior", dict(age=age, web=web, income=_peaked(rng, len(enums.INCOME_BANDS)),
                                                      gender=_peaked(rng, 2, rng.uniform(0.6, 0.9)) + (0.0, 0.0))  # fmt: skip
    if trait == "brand":
        categories = rng.dirichlet(np.full(len(tables.CATEGORIES), 0.3))
        return "brand_loyal", dict(brand_loyalty=rng.uniform(0.65, 0.9), premium_loyal=bool(rng.random() < 0.5),
                                   categories=tuple(categories.tolist()))  # fmt: skip
    if trait == "business":
        return "business", dict(cadence=True, orders_per_year=12.0, channel=_jittered(rng, (0.5, 0.05, 0.45)))
    raise KeyError(trait)


def _one_hot_mix(rng: np.random.Generator, size: int, top: int, peak: float) -> tuple[float, ...]:
    rest = rng.dirichlet(np.ones(size - 1)) * (1.0 - peak)
    return tuple(float(v) for v in np.insert(rest, top, peak))


def _sizes(rng: np.random.Generator, k: int, prospect_share: float) -> np.ndarray:
    """Random shares of the k buying archetypes: a 3% floor, the rest Dirichlet (some stay near 3%)."""
    free = 1.0 - prospect_share - MIN_SHARE * k
    return MIN_SHARE + free * rng.dirichlet(np.full(k, 0.8))


def _pick(rng: np.random.Generator, weights: dict[str, float], n: int) -> list[str]:
    p = np.array(list(weights.values()))
    return [list(weights)[i] for i in sorted(rng.choice(len(weights), size=n, replace=False, p=p / p.sum()))]


def draw_archetypes(k: int, seed: int) -> arch.ArchetypeSet:
    """K buying archetypes with random trait profiles, plus a prospect archetype (5-12% of customers).

    Every archetype deviates from the ordinary customer in a different set of buying behaviours
    (two never share the same set and directions), so the truth holds K behaviours that show in
    the orders.
    """
    if not MIN_ARCHETYPES <= k <= MAX_ARCHETYPES:
        raise ValueError(f"archetypes must be between {MIN_ARCHETYPES} and {MAX_ARCHETYPES}, not {k}")
    rng = np.random.default_rng([seed, 1_000_003])
    prospect_share = rng.uniform(0.05, 0.12)
    shares = _sizes(rng, k, prospect_share)
    chosen: list[arch.Archetype] = []
    signatures: set[frozenset[str]] = set()
    while len(chosen) < k:
        picked = _pick(rng, BEHAVIOUR_WEIGHTS, int(rng.integers(2, 4))) + _pick(
            rng, CONTEXT_WEIGHTS, int(rng.integers(0, 3))
        )
        params = _neutral(rng)
        labels, behaviours = [], []
        for trait in picked:
            label, overrides = _deviation(rng, trait)
            labels.append(label)
            if trait in BEHAVIOUR_WEIGHTS:
                behaviours.append(label)
            params.update(overrides)
        signature = frozenset(behaviours)
        if signature in signatures:
            continue  # two archetypes buying the same way would be one archetype, not two
        signatures.add(signature)
        name = f"a{len(chosen) + 1:02d}_" + "_".join(sorted(labels))
        chosen.append(dataclasses.replace(_BASE, name=name, share=float(shares[len(chosen)]), **params))
    prospect = dataclasses.replace(
        _BASE, name=PROSPECT, share=1.0 - float(shares.sum()), orders_per_year=0.0, **{
            key: value for key, value in _neutral(rng).items() if key != "orders_per_year"
        }
    )  # fmt: skip
    return arch.ArchetypeSet([*chosen, prospect])
