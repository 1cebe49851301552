"""What a segment is, in words the names, positioning and actions share: read from its profile's
numbers (read_traits), then restated by its holding claims (traits_from_claims)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from segmentation_pipeline.marts.personas.claims import ROLE_CLAIMS, ROLE_OF_CLAIM, ClaimRow
from segmentation_pipeline.marts.personas.config import PersonaConfig
from segmentation_pipeline.marts.personas.profiles import number
from segmentation_pipeline.models.segmentation.clustering import PROSPECT_SEGMENT_ID


@dataclass(frozen=True)
class Traits:
    """What a segment is, in words the stories and rules share."""

    prospect: bool
    channel: str  # store | online | phone | mixed | none
    researches_online: bool
    loyalty: str  # loyal | lapsed | new | occasional | prospect
    role: str  # occasion | bargain | big_basket | high_touch | late_payer | influencer | frequent | shopper
    second_role: str | None
    gender: str | None  # male | female | None (unknown or mixed data)
    survey: bool
    # More than one order channel in the whole base: only then do channels tell segments apart
    # (a web shop's customers all buy online; "prefers online to store" would be untrue).
    multichannel: bool = True
    # The service source delivered data (features are null without it: nothing to say then).
    service_known: bool = True


def read_traits(p: dict, base: dict, config: PersonaConfig) -> Traits:
    prospect = p["segment_id"] == PROSPECT_SEGMENT_ID
    online, store, phone = (number(p, c) for c in ("share_online", "share_store", "share_phone"))
    if online is None and store is None and phone is None:
        channel = "none"
    elif (store or 0) >= 0.55:
        channel = "store"
    elif (online or 0) >= 0.55:
        channel = "online"
    elif (phone or 0) >= 0.4:
        channel = "phone"
    else:
        channel = "mixed"
    researches_online = (
        p.get("web_savviness") in ("high", "average")
        or p.get("discovery_channel") in ("search", "social")
        or (number(p, "importance_reviews") or 0) >= 3.8
        or (online or 0) >= 0.3
    )
    recency, frequency, tenure = (
        number(p, "recency_days"),
        number(p, "frequency", 0),
        number(p, "tenure_days"),
    )
    base_frequency = number(base, "frequency", 1) or 1
    if prospect:
        loyalty = "prospect"
    elif recency is not None and recency >= config.lapsed_days:
        loyalty = "lapsed"
    elif (frequency or 0) <= 1 and tenure is not None and tenure <= 120:
        loyalty = "new"
    elif "high" in str(p.get("loyalty_class") or "").lower() or (frequency or 0) >= 1.5 * base_frequency:
        loyalty = "loyal"
    else:
        loyalty = "occasional"

    # Each role has a strength: >= 1 means the segment clearly shows it; the strongest wins.
    followers = number(p, "social_followers", 0) or 0
    base_aov = number(base, "avg_order_value", 0) or 0
    base_effort = number(base, "total_effort", 0) or 0
    cadence = number(p, "mean_days_between_orders")
    base_followers = number(base, "social_followers", 0) or 0
    strengths = {
        # Relative to the base, with floors: the articles' Sarah, 3,000 followers who talks about
        # her purchases, is an influencer for a brand even if she is no celebrity.
        "influencer": followers / max(2_000.0, 3 * base_followers),
        "big_basket": (number(p, "avg_order_value", 0) or 0) / (4 * base_aov) if base_aov > 0 else 0.0,
        "high_touch": (number(p, "total_effort", 0) or 0) / max(2 * base_effort, 10.0),
        "late_payer": (number(p, "late_payment_share", 0) or 0) / 0.3,
        "bargain": (number(p, "discount_share", 0) or 0)
        / max(0.15, 2 * (number(base, "discount_share", 0) or 0)),
        "occasion": (number(p, "occasion_share", 0) or 0)
        / max(0.4, 1.5 * (number(base, "occasion_share", 0) or 0)),
        "frequent": ((frequency or 0) / (2 * base_frequency))
        if cadence is not None and cadence <= 45
        else 0.0,
    }
    ranked = sorted((s, r) for r, s in strengths.items() if s >= 1.0)[::-1]
    role = ranked[0][1] if ranked and not prospect else ("prospect" if prospect else "shopper")
    second = ranked[1][1] if len(ranked) > 1 and not prospect else None
    gender = p.get("gender") if p.get("gender") in ("male", "female") else None
    survey = (p.get("respondents") or 0) >= config.min_respondents
    channels_in_data = sum((number(base, f"share_{c}") or 0) > 0 for c in ("online", "store", "phone"))
    service_known = number(base, "service_contacts") is not None
    return Traits(
        prospect,
        channel,
        researches_online,
        loyalty,
        role,
        second,
        gender,
        survey,
        channels_in_data > 1,
        service_known,
    )


CHANNEL_OF_CLAIM = {"buys_in_store": "store", "buys_online": "online", "buys_by_phone": "phone"}
LOYALTY_OF_CLAIM = {"lapsed": "lapsed", "repeat_buyer": "loyal", "one_order": "new"}


def traits_from_claims(t: Traits, claims: list[ClaimRow]) -> Traits:
    """The segment's traits as its holding claims state them (names, positioning and actions use these)."""
    held = {c.claim: c for c in claims}
    roles = sorted(
        (c for c in claims if c.claim in ROLE_OF_CLAIM),
        key=lambda c: (-c.support_share, ROLE_CLAIMS.index(c.claim)),
    )
    # One order channel in the whole base: that channel is the truth for everyone (no word is made of it).
    channel = next(
        (ch for k, ch in CHANNEL_OF_CLAIM.items() if k in held), "mixed" if t.multichannel else t.channel
    )
    loyalty = next((lo for k, lo in LOYALTY_OF_CLAIM.items() if k in held), "occasional")
    gender = next((c.claim.split("=")[1] for c in claims if c.claim.startswith("gender=")), None)
    return replace(
        t,
        channel="none" if t.prospect else channel,
        loyalty="prospect" if t.prospect else loyalty,
        role="prospect" if t.prospect else (ROLE_OF_CLAIM[roles[0].claim] if roles else "shopper"),
        second_role=ROLE_OF_CLAIM[roles[1].claim] if len(roles) > 1 and not t.prospect else None,
        gender=gender,
    )
