"""Personas: a name, a short story (English and French), a positioning statement and recommended actions
per behavioural segment, all derived deterministically from the segment's customers.

The stories are the segment's holding claims (marts/personas/claims.py), told in the seeds' order by one
sentence plan with two phrasebooks (marts/personas/story.py): who they are (gender only when one holds for
65% of the segment, else a neutral persona; age band, income band, region, city, profession, web
savviness), how they buy, their social reach, the five survey questions, what they cost to serve and
bring over 12 months. The name and the positioning's target use only words of holding claims.

The positioning statement follows the seeds' template: "[brand] offers [target] a range of
[category] with [features] that gives them [benefits]" (« [marque] propose [cible] une gamme
d'[catégorie] ayant [caractéristiques] qui leur offre [bénéfices] »); brand and category per
language come from PersonaConfig (SEGMENTATION_BRAND, SEGMENTATION_CATEGORY, SEGMENTATION_CATEGORY_FR).
Recommended actions (channel, message, cadence, service) are rules over the profile's numbers; the
service action is read from the segment's service priority alone. Actions are in English.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, replace

import polars as pl

from segmentation_pipeline.contracts import enums
from segmentation_pipeline.marts.personas.claims import (
    CLAIMS_SCHEMA,
    ROLE_CLAIMS,
    ROLE_OF_CLAIM,
    ClaimConfig,
    ClaimRow,
    empty_claims,
    holding_claims,
)
from segmentation_pipeline.marts.personas.phrasebook_en import ENGLISH
from segmentation_pipeline.marts.personas.positioning import positioning_from_claims
from segmentation_pipeline.marts.personas.story import tell
from segmentation_pipeline.models.segmentation.clustering import (
    PROSPECT_SEGMENT_ID,
    SURVEY_COLUMNS,
    ensure_profile_columns,
)


@dataclass(frozen=True)
class PersonaConfig:
    brand: str = "Maison Exemple"
    category_en: str = "home and lifestyle goods"  # SEGMENTATION_CATEGORY: "a range of …"
    category_fr: str = (
        "articles pour la maison et l'art de vivre"  # SEGMENTATION_CATEGORY_FR: « une gamme d'… »
    )
    lapsed_days: int = 180  # median recency from which a segment is "lapsed"
    min_respondents: int = 5  # fewer survey answers than this: survey facts are left out
    currency: str = "EUR"  # ISO 4217 code of every amount (SEGMENTATION_CURRENCY)
    value_basis: str = "margin"  # margin | revenue: the money of clv_12m (features/value_basis.py)
    claim_support: float = 0.6  # SEGMENTATION_CLAIM_SUPPORT: share of a segment a stated trait holds for


MEAN_COLUMNS = [
    "share_online",
    "share_store",
    "share_phone",
    "occasion_share",
    "discount_share",
    "brand_concentration",
    "return_rate",
    "late_payment_share",
    "mean_days_late",
    "mean_effort_score",
    "engagement_rate",
    "p_alive",
    "clv_12m",
    "satisfaction",
    "nps",
    *enums.IMPORTANCE_COLUMNS,
]
# Null without the service source (the features give 0 to a customer it has no ticket for).
SERVICE_MEAN_COLUMNS = ["service_contacts", "total_effort", "cost_to_serve", "unresolved_tickets"]
MEDIAN_COLUMNS = [
    "age",
    "avg_order_value",
    "frequency",
    "monetary",
    "mean_days_between_orders",
    "recency_days",
    "tenure_days",
    "social_followers",
    "social_platforms",
    "brand_mentions_90d",
]
MODE_COLUMNS = [
    "gender",
    "web_savviness",
    "preferred_channel",
    "influence_tier",
    "main_motivation",
    "main_barrier",
    "discovery_channel",
    "brand_perception",
    "top_category",
    "top_brand",
    "loyalty_class",
    "rfm_segment",
    "lifecycle_stage",
]


def _f(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Float64)


def segment_profiles(profile_with_segment: pl.DataFrame) -> pl.DataFrame:
    """One row per segment_id with what the stories need: means, medians, modes, survey counts."""
    df = ensure_profile_columns(profile_with_segment)
    survey = [c for c in SURVEY_COLUMNS if c in df.columns]
    numeric = df.group_by("segment_id").agg(
        pl.len().alias("customers"),
        *[_f(c).mean().alias(c) for c in MEAN_COLUMNS if c in df.columns],
        *[_f(c).mean().alias(c) for c in SERVICE_MEAN_COLUMNS if c in df.columns],
        # Customers with an order line at all (cancel_rate is null only without one): prospects who
        # ordered and returned or cancelled everything are not "yet to buy".
        (
            pl.col("cancel_rate").is_not_null().mean()
            if "cancel_rate" in df.columns
            else pl.lit(None, pl.Float64)
        ).alias("ordered_share"),
        *[_f(c).median().alias(c) for c in MEDIAN_COLUMNS if c in df.columns],
        (
            _f("social_followers").is_not_null().mean() if "social_followers" in df.columns else pl.lit(0.0)
        ).alias("social_known"),
        (pl.any_horizontal([pl.col(c).is_not_null() for c in survey]).sum() if survey else pl.lit(0)).alias(
            "respondents"
        ),
        # NPS as the survey industry reads it: % promoters (9-10) minus % detractors (0-6).
        ((_f("nps") >= 9).mean() - (_f("nps") <= 6).mean()).mul(100).alias("nps_score"),
    )
    for column in MODE_COLUMNS:
        if column not in df.columns:
            continue
        counts = (
            df.select("segment_id", pl.col(column).cast(pl.String))
            .drop_nulls(column)
            .group_by("segment_id", column)
            .len()
            .with_columns(pl.col("len").sum().over("segment_id").alias("total"))
            .sort(["segment_id", "len", column], descending=[False, True, False])
        )
        top = counts.group_by("segment_id", maintain_order=True).agg(
            pl.col(column).first().alias(column),
            (pl.col("len").first() / pl.col("total").first()).alias(f"{column}_share"),
            pl.col("total").first().alias(f"{column}_n"),
            pl.format(
                "{} {}%", pl.col(column), (pl.col("len") * 100 / pl.col("total")).round(0).cast(pl.Int64)
            )
            .head(3)
            .str.join(", ")
            .alias(f"{column}_top"),
        )
        numeric = numeric.join(top, on="segment_id", how="left")
    return numeric.sort("segment_id")


def base_profile(profile_with_segment: pl.DataFrame) -> dict:
    """The whole base summarised like one segment (the yardstick for 'high' and 'low'); every value
    null for a base without customers (there is no segment to compare then)."""
    base = segment_profiles(profile_with_segment.with_columns(pl.lit(-1, dtype=pl.Int64).alias("segment_id")))
    return base.row(0, named=True) if base.height else dict.fromkeys(base.columns)


# --- reading a profile -----------------------------------------------------------------------------


def _num(p: dict, key: str, default: float | None = None) -> float | None:
    value = p.get(key)
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return default
    return float(value)


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
    online, store, phone = (_num(p, c) for c in ("share_online", "share_store", "share_phone"))
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
        or (_num(p, "importance_reviews") or 0) >= 3.8
        or (online or 0) >= 0.3
    )
    recency, frequency, tenure = _num(p, "recency_days"), _num(p, "frequency", 0), _num(p, "tenure_days")
    base_frequency = _num(base, "frequency", 1) or 1
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
    followers = _num(p, "social_followers", 0) or 0
    base_aov = _num(base, "avg_order_value", 0) or 0
    base_effort = _num(base, "total_effort", 0) or 0
    cadence = _num(p, "mean_days_between_orders")
    base_followers = _num(base, "social_followers", 0) or 0
    strengths = {
        # Relative to the base, with floors: the articles' Sarah, 3,000 followers who talks about
        # her purchases, is an influencer for a brand even if she is no celebrity.
        "influencer": followers / max(2_000.0, 3 * base_followers),
        "big_basket": (_num(p, "avg_order_value", 0) or 0) / (4 * base_aov) if base_aov > 0 else 0.0,
        "high_touch": (_num(p, "total_effort", 0) or 0) / max(2 * base_effort, 10.0),
        "late_payer": (_num(p, "late_payment_share", 0) or 0) / 0.3,
        "bargain": (_num(p, "discount_share", 0) or 0)
        / max(0.15, 2 * (_num(base, "discount_share", 0) or 0)),
        "occasion": (_num(p, "occasion_share", 0) or 0)
        / max(0.4, 1.5 * (_num(base, "occasion_share", 0) or 0)),
        "frequent": ((frequency or 0) / (2 * base_frequency))
        if cadence is not None and cadence <= 45
        else 0.0,
    }
    ranked = sorted((s, r) for r, s in strengths.items() if s >= 1.0)[::-1]
    role = ranked[0][1] if ranked and not prospect else ("prospect" if prospect else "shopper")
    second = ranked[1][1] if len(ranked) > 1 and not prospect else None
    gender = p.get("gender") if p.get("gender") in ("male", "female") else None
    survey = (p.get("respondents") or 0) >= config.min_respondents
    channels_in_data = sum((_num(base, f"share_{c}") or 0) > 0 for c in ("online", "store", "phone"))
    service_known = _num(base, "service_contacts") is not None
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


ROLE_NAMES = {  # role: English singular (the plural is the phrasebook's "roles")
    "occasion": "gift buyer",
    "bargain": "bargain hunter",
    "big_basket": "big-basket buyer",
    "high_touch": "high-touch customer",
    "late_payer": "late payer",
    "influencer": "influencer",
    # Frequency is the trait; basket size is said in the story only when it is below the base's.
    "frequent": "frequent buyer",
    "shopper": "shopper",
    "prospect": "prospect",
}
FIRST_NAMES = {  # role: (male, female); the articles' Joe and Sarah go to their look-alikes
    "occasion": ("Joe", "Claire"),
    "frequent": ("Lucas", "Emma"),
    "bargain": ("Karim", "Nathalie"),
    "high_touch": ("Michel", "Monique"),
    "late_payer": ("Julien", "Laura"),
    "influencer": ("Hugo", "Sarah"),
    "big_basket": ("Marc", "Isabelle"),
    "shopper": ("Thomas", "Camille"),
    "prospect": ("Léo", "Zoé"),
}
SPARE_NAMES = {
    "male": ["Antoine", "Pierre", "Nicolas", "Paul", "Mehdi", "Louis", "Olivier", "Yann"],
    "female": ["Emma", "Léa", "Chloé", "Julie", "Sophie", "Manon", "Amélie", "Lucie"],
    None: ["Alex", "Sacha", "Charlie", "Dominique", "Claude", "Maxime", "Morgan", "Eden"],
}


# --- formatting ------------------------------------------------------------------------------------


# --- names -----------------------------------------------------------------------------------------


def _first_name(t: Traits, name: str, used: set[str]) -> str:
    male, female = FIRST_NAMES[t.role]
    preferred = {"male": male, "female": female}.get(t.gender or "")
    if preferred and preferred not in used:
        return preferred
    pool = SPARE_NAMES[t.gender]  # type: ignore[index]
    start = zlib.crc32(name.encode()) % len(pool)
    for i in range(len(pool)):
        candidate = pool[(start + i) % len(pool)]
        if candidate not in used:
            return candidate
    return f"{pool[start]} {len(used)}"


# --- stories ---------------------------------------------------------------------------------------


# --- recommended actions ---------------------------------------------------------------------------


def recommended_actions(p: dict, t: Traits, economics: dict | None) -> dict[str, str]:
    """Channel, message, cadence and service approach, from the profile's numbers and the segment ROI."""
    followers = _num(p, "social_followers", 0) or 0
    channel = {
        "store": "in store: personal advice and invitations to in-store events",
        "online": "email and app notifications",
        "phone": "outbound phone calls" + (" from a named account manager" if t.role == "big_basket" else ""),
        "mixed": "email plus in-store touchpoints",
        "none": f"retargeting through {ENGLISH.words['discovery'].get(p.get('discovery_channel') or '', 'the channel that found them')}",
    }[t.channel]
    if t.channel == "store" and t.researches_online:
        channel += ", plus online content to check before visiting (reviews, stock)"
    if (_num(p, "social_known", 0) or 0) >= 0.3 and followers >= 10_000:
        channel += "; social media through an ambassador programme"
    elif (_num(p, "social_known", 0) or 0) >= 0.3 and followers >= 1000:
        channel += "; shareable content on social media"

    message = {
        "occasion": "gift guides and reminders ahead of holidays and birthdays",
        "bargain": "targeted promotions and bundles, not full-price campaigns",
        "big_basket": "volume pricing, catalogue updates and re-order reminders",
        "high_touch": "how-to guides and reassurance before and after purchase",
        "late_payer": "clear payment terms and instalment options",
        "influencer": "previews and launches they can talk about",
        "frequent": "new arrivals and weekly picks",
        "shopper": {
            "quality": "craftsmanship and durability",
            "service": "the service promise",
            "price": "value for money",
        }.get(p.get("main_motivation") or "", "the range that fits their top category"),
        "prospect": "a welcome offer that answers their first question",
    }[t.role]
    if t.loyalty == "lapsed":
        message = "a win-back offer and what is new since their last order; then " + message
    pays_for_quality = p.get("main_motivation") in ("quality", "service", "brand")
    if not t.prospect and (_num(p, "discount_share", 0) or 0) < 0.15 and pays_for_quality:
        message += " (avoid discount-led messages: they pay for quality and service)"
    barrier_fix = {
        "price": "answer the price barrier with value arguments or instalments",
        "missing_feature": "announce the features they miss as soon as they land",
        "trust": "build trust with reviews, guarantees and easy returns",
        "awareness": "show the full range",
        "delivery": "highlight delivery options and reliable lead times",
        "payment": "offer more payment options",
    }.get(p.get("main_barrier") or "")
    if t.survey and barrier_fix:
        message += f"; {barrier_fix}"

    cadence_days = _num(p, "mean_days_between_orders")
    if t.prospect:
        cadence = "welcome sequence: 3 messages over 3 weeks, then monthly"
    elif t.loyalty == "lapsed":
        cadence = "win-back sequence: 3 messages over 6 weeks, then quarterly"
    elif t.role == "occasion" or (_num(p, "occasion_share", 0) or 0) >= 0.4:
        cadence = "seasonal: 2 to 3 weeks before key occasions, quiet the rest of the year"
    elif t.loyalty == "new" or cadence_days is None:
        cadence = "onboarding: aim for a second purchase within 30 days"
    else:
        every = max(7, min(90, round(cadence_days / 2)))
        cadence = f"about every {every} days (half their {round(cadence_days)}-day buying cycle)"

    service = service_action(economics, t)
    if t.role == "late_payer" or (_num(p, "late_payment_share", 0) or 0) >= 0.3:
        service += "; automated payment reminders and prepayment for large orders"
    return {"channel": channel, "message": message, "cadence": cadence, "service": service}


def _multiple(roi: float) -> str:
    return f"{roi:.1f}\u00d7".replace("-", "\u2212")


def service_action(economics: dict | None, t: Traits) -> str:
    """The service approach, read from the segment's service priority alone (segment_economics' rule).

    Levels never go up as the priority number goes down the list: top third of the ranked segments
    first in line, middle third standard, bottom third standard after the others, negative ROI
    self-care first (the ranking follows ROI, so those are the last ones).
    """
    e = economics or {}
    roi, priority, ranked = e.get("roi"), e.get("service_priority"), e.get("ranked_segments") or 0
    if roi is None or priority is None:
        if not t.service_known:
            return "no service data: cost to serve, ROI and priority unknown"
        return "no ticket in this segment's history: no ROI to rank, standard care"
    why = f"service priority {priority} of {ranked}, ROI {_multiple(roi)} the expected 12-month cost to serve"
    if roi < 0:
        action = f"self-care first (FAQ, chat, order tracking): over 12 months they are expected to cost more to serve than they bring ({why})"
    elif priority <= -(-ranked // 3):
        action = f"first in line when service capacity is short: priority queue and a named advisor ({why})"
    elif priority > ranked - ranked // 3:
        action = f"standard queue, after the higher priorities; routine questions to self-care ({why})"
    else:
        action = f"standard queue, kept fast and simple ({why})"
    losing = e.get("customers_cost_exceeds_value") or 0
    if losing:
        action += (
            f"; {losing:,} customer{'s' if losing > 1 else ''} of this segment cost more to serve than "
            "their expected 12-month value (flag cost_exceeds_value_12m): review how they are served"
        )
    return action


# --- assembling ------------------------------------------------------------------------------------


def survey_insights(p: dict, config: PersonaConfig) -> dict[str, str | None]:
    """Survey answers of a segment as text columns (null when too few answers)."""
    if (p.get("respondents") or 0) < config.min_respondents:
        keys = (
            "top_motivations",
            "top_barriers",
            "decision_factors",
            "discovery_channels",
            "brand_perceptions",
        )
        return dict.fromkeys(keys)
    factors = sorted(
        ((c.removeprefix("importance_"), _num(p, c)) for c in enums.IMPORTANCE_COLUMNS),
        key=lambda t: (-(t[1] or 0), t[0]),
    )
    return {
        "top_motivations": p.get("main_motivation_top"),
        "top_barriers": p.get("main_barrier_top"),
        "decision_factors": ", ".join(f"{f} {s:.1f}/5" for f, s in factors if s is not None) or None,
        "discovery_channels": p.get("discovery_channel_top"),
        "brand_perceptions": p.get("brand_perception_top"),
    }


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


NAME_LOYALTY = {"lapsed": "Lapsed", "repeat_buyer": "Loyal", "one_order": "One-order"}
NAME_CHANNEL = {"buys_in_store": "in-store", "buys_online": "online", "buys_by_phone": "phone-order"}


def persona_name_from_claims(t: Traits, claims: list[ClaimRow]) -> str:
    """Words only from holding claims: e.g. 'Loyal in-store gift buyer', 'Two groups: gift buyers and
    bargain hunters', 'Prospect who returned everything'."""
    held = {c.claim for c in claims}
    if t.prospect:
        if "ordered_and_returned" in held:
            return "Prospect who returned everything"
        discovery = next((c.split("=")[1] for c in held if c.startswith("discovery_channel=")), None)
        return f"Prospect found through {ENGLISH.word('discovery', discovery)}" if discovery else "Prospect"
    mixture = next((c for c in held if c.startswith("mixture:")), None)
    if mixture:
        a, b = (ROLE_OF_CLAIM[k] for k in mixture.removeprefix("mixture:").split("+"))
        return f"Two groups: {ENGLISH.word('roles', a)} and {ENGLISH.word('roles', b)}"
    words = [
        next((w for k, w in NAME_LOYALTY.items() if k in held), ""),
        next((w for k, w in NAME_CHANNEL.items() if k in held), ""),
        ROLE_NAMES[t.role],
    ]
    name = " ".join(w for w in words if w)
    return name[0].upper() + name[1:]


def build_personas_and_claims(
    profile_with_segment: pl.DataFrame,
    economics: pl.DataFrame | None = None,
    *,
    config: PersonaConfig | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(personas, claims). Personas: one row per segment with persona_name, first_name,
    narrative_en/_fr (the holding claims' sentences, in the plan's order), positioning_statement(_fr),
    recommended_actions (text) and its parts (action_*), survey insight columns. Claims: the rows of
    marts.segment_claims, one per sentence.

    `economics` (from segment_economics) gives the service action its priority.
    """
    config = config or PersonaConfig()
    profiles = segment_profiles(profile_with_segment)
    base = base_profile(profile_with_segment)
    claim_config = ClaimConfig(support=config.claim_support, min_respondents=config.min_respondents)
    claims_by_segment: dict[int, list[ClaimRow]] = {}
    for c in holding_claims(profile_with_segment, claim_config):
        claims_by_segment.setdefault(c.segment_id, []).append(c)
    econ = {r["segment_id"]: r for r in economics.iter_rows(named=True)} if economics is not None else {}
    ranked = sum(r.get("service_priority") is not None for r in econ.values())
    econ = {k: {**r, "ranked_segments": ranked} for k, r in econ.items()}
    rows, claim_rows, names, first_names, said = [], [], set(), set(), set()
    for p in profiles.iter_rows(named=True):
        claims = claims_by_segment.get(p["segment_id"], [])
        t = traits_from_claims(read_traits(p, base, config), claims)
        name = persona_name_from_claims(t, claims)
        if name in names:  # two segments read alike: the second most telling role tells them apart
            extra = ROLE_NAMES[t.second_role] if t.second_role else None
            name = (
                f"{name} ({extra})"
                if extra and f"{name} ({extra})" not in names
                else f"{name} (segment {p['segment_id']})"
            )
        names.add(name)
        first = _first_name(t, name, first_names)
        first_names.add(first)
        texts = []
        for c in claims:
            pair = _tell(c, first, t.gender, config)
            if pair[0] in said or pair[1] in said:  # never a sentence another persona has: say the name
                pair = _tell(c, first, t.gender, config, named=True)
            said.update(pair)
            texts.append(pair)
            claim_rows.append({**c.__dict__, "sentence": len(texts), "text_en": pair[0], "text_fr": pair[1]})
        pos_en, pos_fr = positioning_from_claims(t, claims, config)
        actions = recommended_actions(p, t, econ.get(p["segment_id"]))
        rows.append(
            {
                "segment_id": p["segment_id"],
                "persona_name": name,
                "first_name": first,
                "narrative_en": " ".join(en for en, _ in texts),
                "narrative_fr": " ".join(fr for _, fr in texts),
                "positioning_statement": pos_en,
                "positioning_statement_fr": pos_fr,
                "recommended_actions": "; ".join(f"{k.capitalize()}: {v}" for k, v in actions.items()),
                **{f"action_{k}": v for k, v in actions.items()},
                **survey_insights(p, config),
                "survey_respondents": int(p.get("respondents") or 0),
            }
        )
    # Every other column is text; typed explicitly, since a column that is null in every row (no
    # survey at all) would otherwise have no type for the warehouse.
    counts = {"segment_id": pl.Int64, "survey_respondents": pl.Int64}
    columns = list(rows[0]) if rows else ["segment_id", "persona_name", "survey_respondents"]
    personas = pl.DataFrame(rows, schema={c: counts.get(c, pl.String) for c in columns})
    claims_table = pl.DataFrame(claim_rows, schema=CLAIMS_SCHEMA) if claim_rows else empty_claims()
    return personas, claims_table


def _tell(
    c: ClaimRow, name: str, gender: str | None, config: PersonaConfig, named: bool = False
) -> tuple[str, str]:
    return tell(
        c, name, gender, named=named, brand=config.brand, currency=config.currency, basis=config.value_basis
    )


def build_segments_table(
    profile_with_segment: pl.DataFrame,
    economics: pl.DataFrame,
    personas: pl.DataFrame,
    explanations: pl.DataFrame,
) -> pl.DataFrame:
    """Rows of marts.segments: one per segment, personas joined with economics and explanations."""
    traits = explanations.select("segment_id", "defining_traits")
    econ = economics.select(
        "segment_id",
        pl.col("customers").cast(pl.Int64),
        "customer_share",
        "revenue_share",
        "avg_clv_12m",
        "roi",
        "service_priority",
        "revenue",
        "margin",
        "cost_to_serve",
        "clv_12m_total",
        "expected_cost_to_serve_12m",
        "customers_cost_exceeds_value",
        "service_tickets",
        "total_service_effort",
        "mean_effort_score",
    )
    profiles = segment_profiles(profile_with_segment).select(
        "segment_id",
        pl.col("avg_order_value").alias("median_order_value"),
        pl.col("frequency").alias("median_frequency"),
        pl.col("recency_days").alias("median_recency_days"),
        "share_online",
        "share_store",
        "share_phone",
        "occasion_share",
        "discount_share",
        "late_payment_share",
        pl.col("total_effort").alias("mean_service_effort_per_customer"),
        pl.col("age").alias("median_age"),
        "nps_score",
    )
    table = (
        personas.join(econ, on="segment_id", how="left")
        .join(traits, on="segment_id", how="left")
        .join(profiles, on="segment_id", how="left")
    )
    first = [
        "segment_id",
        "persona_name",
        "customers",
        "customer_share",
        "revenue_share",
        "avg_clv_12m",
        "narrative_en",
        "narrative_fr",
        "positioning_statement",
        "recommended_actions",
        "roi",
        "service_priority",
        "defining_traits",
        "top_motivations",
        "top_barriers",
        "decision_factors",
        "discovery_channels",
        "brand_perceptions",
        "revenue",
        "margin",
        "cost_to_serve",
        "clv_12m_total",
    ]
    return table.select(*first, *[c for c in table.columns if c not in first]).sort("segment_id")
