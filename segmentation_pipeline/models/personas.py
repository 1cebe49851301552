"""Personas: a name, a short story (English and French), a positioning statement and recommended actions
per behavioural segment, all derived deterministically from the segment's profile.

The stories follow the articles' Joe and Sarah ("Joe is a 37-year-old man who considers himself
'average' on the web. He prefers to research online but buy offline…"): age, web savviness, where
they research and where they buy, loyalty, occasion buying, basket and cadence, social reach, what
motivates them, what holds them back, how they found the brand, what decides them, how they see the
brand, and how much service they need. Every sentence is built from numbers of the profile; a fact
the data lacks (no survey, no social data) is left out rather than invented.

The positioning statement follows the articles' template: "[brand] offers [target] a [category]
with [features] that gives them [benefits]" («[La marque X] propose à [telle cible] un [catégorie]
ayant [telles caractéristiques] qui leur offre [tels bénéfices]»); brand and category come from
PersonaConfig. Recommended actions (channel, message, cadence, service) are rules over the
profile's numbers and the segment's ROI, not a fixed list per segment. Actions are in English.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, replace

import polars as pl
from babel.numbers import get_currency_name

from segmentation_pipeline.contracts import enums
from segmentation_pipeline.models.clustering import (
    PROSPECT_SEGMENT_ID,
    SURVEY_COLUMNS,
    ensure_profile_columns,
)
from segmentation_pipeline.models.claims import (
    CLAIMS_SCHEMA,
    ROLE_CLAIMS,
    ClaimConfig,
    ClaimRow,
    empty_claims,
    holding_claims,
)
from segmentation_pipeline.models.money import format_money
from segmentation_pipeline.models.story import Voice, sentence_en, sentence_fr


@dataclass(frozen=True)
class PersonaConfig:
    brand: str = "Maison Exemple"
    category_en: str = "home and lifestyle goods"  # SEGMENTATION_CATEGORY: "a range of …"
    category_fr: str = "articles pour la maison et l'art de vivre"  # SEGMENTATION_CATEGORY_FR: « une gamme d'… »
    lapsed_days: int = 180  # median recency from which a segment is "lapsed"
    min_respondents: int = 5  # fewer survey answers than this: survey facts are left out
    currency: str = "EUR"  # ISO 4217 code of every amount (SEGMENTATION_CURRENCY)
    value_basis: str = "margin"  # margin | revenue: the money of clv_12m (features/value_basis.py)


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
    """The whole base summarised like one segment (the yardstick for 'high' and 'low')."""
    return segment_profiles(
        profile_with_segment.with_columns(pl.lit(-1, dtype=pl.Int64).alias("segment_id"))
    ).row(0, named=True)


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


ROLE_NAMES = {  # role: (English singular, English plural, French plural)
    "occasion": ("gift buyer", "gift buyers", "acheteurs d'occasions spéciales"),
    "bargain": ("bargain hunter", "bargain hunters", "chasseurs de bonnes affaires"),
    "big_basket": ("big-basket buyer", "big-basket buyers", "acheteurs à gros paniers"),
    "high_touch": ("high-touch customer", "high-touch customers", "clients très demandeurs d'accompagnement"),
    "late_payer": ("late payer", "late payers", "clients aux paiements tardifs"),
    "influencer": ("influencer", "influencers", "influenceurs"),
    # Frequency is the trait; basket size is said in the story only when it is below the base's.
    "frequent": ("frequent buyer", "frequent buyers", "acheteurs fréquents"),
    "shopper": ("shopper", "shoppers", "clients"),
    "prospect": ("prospect", "prospects", "prospects"),
}
CHANNEL_EN = {
    "store": "in-store",
    "online": "online",
    "phone": "phone-order",
    "mixed": "omnichannel",
    "none": "",
}
CHANNEL_FR = {
    "store": "en magasin",
    "online": "en ligne",
    "phone": "par téléphone",
    "mixed": "sur tous les canaux",
}
LOYALTY_EN = {"loyal": "Loyal", "lapsed": "Lapsed", "new": "New", "occasional": "Occasional", "prospect": ""}
DISCOVERY_EN = {
    "campaign": "one of our campaigns",
    "referral": "a recommendation from someone close",
    "search": "an online search",
    "social": "social media",
    "store": "a visit to one of our stores",
    "press": "the press",
    "other": "other channels",
}
DISCOVERY_FR = {  # after "grâce" (à + les = aux)
    "campaign": "à une de nos campagnes",
    "referral": "à la recommandation d'un proche",
    "search": "à une recherche en ligne",
    "social": "aux réseaux sociaux",
    "store": "à une visite en magasin",
    "press": "à la presse",
    "other": "à d'autres canaux",
}
MOTIVATION_EN = {
    "price": "a good price",
    "quality": "quality",
    "brand": "the brand itself",
    "service": "the service",
    "convenience": "convenience",
    "features": "the product features",
    "values": "what the brand stands for",
    "other": "a mix of reasons",
}
MOTIVATION_FR = {
    "price": "le prix",
    "quality": "la qualité",
    "brand": "la marque elle-même",
    "service": "le service",
    "convenience": "la simplicité",
    "features": "les caractéristiques des produits",
    "values": "les valeurs de la marque",
    "other": "un ensemble de raisons",
}
BARRIER_EN = {
    "price": "price",
    "missing_feature": "a feature missing from our range",
    "trust": "a lack of trust",
    "awareness": "not knowing everything we offer",
    "delivery": "delivery",
    "payment": "the payment options",
    "other": "other reasons",
}
BARRIER_FR = {
    "price": "le prix",
    "missing_feature": "une fonctionnalité absente de notre gamme",
    "trust": "un manque de confiance",
    "awareness": "une connaissance incomplète de notre offre",
    "delivery": "la livraison",
    "payment": "les moyens de paiement",
    "other": "d'autres raisons",
}
PERCEPTION_EN = {
    "reliable": "a reliable player",
    "innovative": "an innovative brand",
    "leader": "a leader in its field",
    "average": "an average brand, nothing special",
    "outdated": "a brand that has aged",
}
PERCEPTION_FR = {
    "reliable": "un acteur fiable",
    "innovative": "une marque novatrice",
    "leader": "un leader de son secteur",
    "average": "une marque moyenne, sans plus",
    "outdated": "une marque vieillissante",
}
FACTOR_EN = {
    "price": "price",
    "brand": "brand image",
    "reviews": "customer reviews",
    "features": "features",
    "service": "service",
}
FACTOR_FR = {
    "price": "le prix",
    "brand": "l'image de marque",
    "reviews": "les avis clients",
    "features": "les caractéristiques du produit",
    "service": "le service",
}
SAVVY_EN = {"low": "a beginner", "average": "average", "high": "very savvy"}
SAVVY_FR = {  # (masculine, feminine, neutral level)
    "low": ("débutant", "débutante", "faible"),
    "average": ("moyen", "moyenne", "moyen"),
    "high": ("très avisé", "très avisée", "très bon"),
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


def _cest(phrase: str) -> str:
    """'c'est le prix' but 'ce sont les moyens de paiement'."""
    return f"ce sont {phrase}" if phrase.startswith(("les ", "des ")) else f"c'est {phrase}"


def _pct(x: float | None) -> str:
    return f"{(x or 0):.0%}"


def _pct_fr(x: float | None) -> str:
    return f"{round((x or 0) * 100)}\u00a0%"


def _int_fr(x: float) -> str:
    return f"{round(x):,}".replace(",", "\u202f")


def _money_en(x: float, currency: str) -> str:
    return format_money(x, currency, "en", whole=True)


def _money_fr(x: float, currency: str) -> str:
    return format_money(x, currency, "fr", whole=True)


def _spend_en(x: float, currency: str) -> str:
    name = get_currency_name(currency, 2, "en")
    if x >= 2000:
        return f"several thousand {name} (about {_money_en(x, currency)})"
    if x >= 1000:
        return f"over a thousand {name} (about {_money_en(x, currency)})"
    if x >= 200:
        return f"several hundred {name} (about {_money_en(x, currency)})"
    return f"about {_money_en(x, currency)}"


def _spend_fr(x: float, currency: str) -> str:
    name = get_currency_name(currency, 2, "fr")
    of = "d'" if name[0].lower() in "aeiouyéèh" else "de "
    if x >= 2000:
        return f"plusieurs milliers {of}{name} (environ {_money_fr(x, currency)})"
    if x >= 1000:
        return f"plus de mille {name} (environ {_money_fr(x, currency)})"
    if x >= 200:
        return f"plusieurs centaines {of}{name} (environ {_money_fr(x, currency)})"
    return f"environ {_money_fr(x, currency)}"


CADENCES = [  # (max days between orders, English, French)
    (10, "about once a week", "environ une fois par semaine"),
    (20, "every couple of weeks", "toutes les deux semaines environ"),
    (45, "about once a month", "environ une fois par mois"),
    (75, "every other month", "tous les deux mois environ"),
    (120, "about once a quarter", "environ une fois par trimestre"),
    (240, "a couple of times a year", "deux ou trois fois par an"),
    (math.inf, "about once a year", "environ une fois par an"),
]


def _cadence(days: float) -> tuple[str, str]:
    return next((en, fr) for limit, en, fr in CADENCES if days <= limit)


def _ago(days: float) -> tuple[str, str]:
    if days >= 365:
        return "over a year", "plus d'un an"
    if days >= 60:
        months = round(days / 30)
        return f"about {months} months", f"environ {months} mois"
    return f"{round(days)} days", f"{round(days)} jours"


DECADES = {
    1: ("in their teens", "de moins de vingt ans"),
    2: ("in their twenties", "d'une vingtaine d'années"),
    3: ("in their thirties", "d'une trentaine d'années"),
    4: ("in their forties", "d'une quarantaine d'années"),
    5: ("in their fifties", "d'une cinquantaine d'années"),
    6: ("in their sixties", "d'une soixantaine d'années"),
    7: ("aged seventy and over", "de plus de soixante-dix ans"),
}


def _decade(age: float) -> tuple[str, str]:
    return DECADES[min(max(int(age // 10), 1), 7)]


def _top_factors(p: dict) -> list[tuple[str, float]]:
    """Decision factors rated >= 3.5/5 on average, best first (at most two)."""
    scores = [(c.removeprefix("importance_"), _num(p, c)) for c in enums.IMPORTANCE_COLUMNS]
    rated = sorted(((f, s) for f, s in scores if s is not None and s >= 3.5), key=lambda t: (-t[1], t[0]))
    return rated[:2]


# --- names -----------------------------------------------------------------------------------------


def persona_name(t: Traits, p: dict) -> str:
    """e.g. 'Loyal in-store gift buyer', 'Lapsed online shopper', 'Prospect found through social media'."""
    if t.prospect:
        discovery = p.get("discovery_channel")
        return f"Prospect found through {DISCOVERY_EN[discovery]}" if t.survey and discovery else "Prospect"
    words = [LOYALTY_EN[t.loyalty], CHANNEL_EN[t.channel] if t.multichannel else "", ROLE_NAMES[t.role][0]]
    name = " ".join(w for w in words if w)
    return name[0].upper() + name[1:]


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


@dataclass(frozen=True)
class _Voice:
    """How a story refers to its character (a neutral voice uses the first name)."""

    name: str
    gender: str | None

    @property
    def he(self) -> str:
        return {"male": "He", "female": "She"}.get(self.gender or "", self.name)

    @property
    def him(self) -> str:
        return {"male": "him", "female": "her"}.get(self.gender or "", self.name)

    @property
    def his(self) -> str:
        return {"male": "his", "female": "her"}.get(self.gender or "", "their")

    @property
    def il(self) -> str:
        return {"male": "Il", "female": "Elle"}.get(self.gender or "", self.name)

    def lower(self, word: str) -> str:
        return word if word == self.name else word.lower()


def _small_en(aov: float, base: dict) -> str:
    """'small, ' only when the basket is below the base's median basket (a claim, not a habit of speech)."""
    return "small, " if aov < (_num(base, "avg_order_value") or 0) else ""


def _small_fr(aov: float, base: dict) -> str:
    return "de petits " if aov < (_num(base, "avg_order_value") or 0) else "des "


def _prospect_sentence_en(p: dict, he: str, t: Traits) -> str:
    """Prospects have no counted order; some did order and returned or cancelled everything."""
    ordered = _num(p, "ordered_share", 0) or 0
    if ordered >= 0.5:
        return f"{he} has ordered from us but returned or cancelled everything so far ({_pct(ordered)} of these customers)."
    tail = ", but has been looking at what we offer online" if t.researches_online else ""
    if ordered > 0:
        return f"{he} has not kept a purchase from us yet{tail} ({_pct(ordered)} ordered and returned or cancelled)."
    return f"{he} has not bought from us yet{tail}."


def _prospect_sentence_fr(p: dict, il: str, t: Traits) -> str:
    ordered = _num(p, "ordered_share", 0) or 0
    if ordered >= 0.5:
        return f"{il} a déjà commandé chez nous mais a tout retourné ou annulé ({_pct_fr(ordered)} de ces clients)."
    tail = ", mais s'intéresse à notre offre en ligne" if t.researches_online else ""
    if ordered > 0:
        return (
            f"{il} n'a encore gardé aucun achat chez nous{tail} "
            f"({_pct_fr(ordered)} ont commandé puis tout retourné ou annulé)."
        )
    return f"{il} n'a encore rien acheté chez nous{tail}."


def narrative_en(p: dict, base: dict, t: Traits, v: _Voice, config: PersonaConfig) -> str:
    s: list[str] = []
    age = _num(p, "age")
    noun = {"male": "man", "female": "woman"}.get(t.gender or "", "customer")
    intro = f"{v.name} is a {round(age)}-year-old {noun}" if age is not None else f"{v.name} is a {noun}"
    web = p.get("web_savviness")
    if web in SAVVY_EN:
        self_ = {"male": "himself", "female": "herself"}.get(t.gender or "", "themselves")
        intro += f" who considers {self_} \u201c{SAVVY_EN[web]}\u201d on the web"
    s.append(intro + ".")
    he, his = v.he, v.his
    share = {
        "store": _num(p, "share_store"),
        "online": _num(p, "share_online"),
        "phone": _num(p, "share_phone"),
    }
    if t.prospect:
        s.append(_prospect_sentence_en(p, he, t))
    elif not t.multichannel:
        pass  # one channel in the whole base: where they buy says nothing about them
    elif t.channel == "store":
        if t.researches_online:
            s.append(
                f"{he} prefers to research online but buy in store ({_pct(share['store'])} of {his} orders)."
            )
        else:
            s.append(
                f"{he} makes up {his} mind in store and buys there ({_pct(share['store'])} of {his} orders)."
            )
    elif t.channel == "online":
        if (share["online"] or 0) >= 0.85:
            s.append(
                f"{he} does all {his} shopping online ({_pct(share['online'])} of orders) "
                "and would rather not buy in store."
            )
        else:
            s.append(f"{he} mostly buys online ({_pct(share['online'])} of orders).")
    elif t.channel == "phone":
        after = ", after looking things up online" if t.researches_online else ""
        mostly = "mostly" if (share["phone"] or 0) >= 0.5 else "often"
        s.append(f"{he} {mostly} orders by phone ({_pct(share['phone'])} of orders){after}.")
    elif t.channel == "mixed":
        s.append(
            f"{he} moves between channels: {_pct(share['online'])} of orders online, "
            f"{_pct(share['store'])} in store, {_pct(share['phone'])} by phone."
        )

    discount = _num(p, "discount_share", 0) or 0
    pays_more = discount < 0.15 and (
        p.get("main_motivation") in ("quality", "service", "brand")
        or (_num(p, "importance_service") or 0) >= 4
    )
    deal = f"{_pct(discount)} of {his} orders carry a discount"
    if t.loyalty == "lapsed":
        ago, _ = _ago(_num(p, "recency_days", 0) or 0)
        s.append(f"{his.capitalize()} last order was {ago} ago, and {v.lower(he)} has drifted away since.")
    elif t.loyalty == "new":
        s.append(
            f"{he} is new to the brand: {his} first order was {round(_num(p, 'tenure_days', 0) or 0)} days ago."
        )
    elif t.loyalty in ("loyal", "occasional"):
        head = f"{he} is loyal to the brand" if t.loyalty == "loyal" else f"{he} buys from us now and then"
        brand = p.get("top_brand")
        if t.loyalty == "loyal" and brand and (_num(p, "brand_concentration", 0) or 0) >= 0.6:
            head += f" and sticks to {brand}"
        if pays_more:
            s.append(f"{head} and is willing to pay more for a service {v.lower(he)} trusts.")
        elif discount >= 0.4:
            s.append(f"{head}, but waits for promotions: {deal}.")
        else:
            s.append(f"{head}.")

    if not t.prospect:
        aov = _num(p, "avg_order_value", 0) or 0
        cadence = _num(p, "mean_days_between_orders")
        frequency = round(_num(p, "frequency", 0) or 0)
        occasion = _num(p, "occasion_share", 0) or 0
        rhythm = _cadence(cadence)[0] if cadence is not None else None
        if t.loyalty == "lapsed" and rhythm and occasion < 0.4:
            s.append(f"{he} used to spend about {_money_en(aov, config.currency)} per order, {rhythm}.")
        elif occasion >= 0.4:
            s.append(
                f"{he} identifies as a special-occasion buyer ({_pct(occasion)} of {his} orders are gifts, "
                f"holidays or celebrations), spending {_spend_en(aov, config.currency)} per visit."
            )
        elif t.role == "big_basket" and rhythm:
            s.append(f"{he} places large orders, {_spend_en(aov, config.currency)} each, {rhythm}.")
        elif "frequent" in (t.role, t.second_role) and rhythm:
            s.append(
                f"{he} makes {_small_en(aov, base)}frequent purchases {rhythm}, about {_money_en(aov, config.currency)} a time."
            )
        elif rhythm:
            s.append(f"{he} spends about {_money_en(aov, config.currency)} per order and buys {rhythm}.")
        else:
            times = "once" if frequency <= 1 else f"{frequency} times"
            s.append(f"{he} has ordered {times} so far, about {_money_en(aov, config.currency)} per order.")
        if discount >= 0.4 and deal not in " ".join(s):
            s.append(f"{he} hunts for deals: {deal}.")

    if (_num(base, "social_known", 0) or 0) > 0:
        followers = _num(p, "social_followers", 0) or 0
        if (_num(p, "social_known", 0) or 0) >= 0.3 and followers >= 1000:
            platforms = round(_num(p, "social_platforms", 1) or 1)
            mentions = round(_num(p, "brand_mentions_90d", 0) or 0)
            reach = f"about {round(followers, -2):,.0f} followers on {platforms} platform{'s' if platforms > 1 else ''}"
            if followers >= 10_000:
                s.append(
                    f"{he} is an influencer, with {reach} and {mentions} brand mentions in 90 days: {his} word travels."
                )
            else:
                s.append(f"{he} discusses what {v.lower(he)} buys with {his} network: {reach}.")
        else:
            s.append(f"{he} has no active social network.")

    if t.survey:
        motivation, barrier = p.get("main_motivation"), p.get("main_barrier")
        if motivation in MOTIVATION_EN:
            s.append(f"What brings {v.him} to us is {MOTIVATION_EN[motivation]}.")
        if barrier == "none":
            s.append(f"Nothing in particular holds {v.him} back.")
        elif barrier in BARRIER_EN:
            s.append(f"What holds {v.him} back is {BARRIER_EN[barrier]}.")
        discovery = p.get("discovery_channel")
        if discovery in DISCOVERY_EN:
            s.append(f"{he} first heard of us through {DISCOVERY_EN[discovery]}.")
        factors = _top_factors(p)
        if factors:
            listed = " and ".join(f"{FACTOR_EN[f]} ({score:.1f}/5)" for f, score in factors)
            s.append(f"When comparing offers, {v.lower(he)} looks first at {listed}.")
        perception = p.get("brand_perception")
        if perception in PERCEPTION_EN:
            s.append(f"{he} sees {config.brand} as {PERCEPTION_EN[perception]}.")
        elif perception == "unknown":
            s.append(f"{he} has no clear picture of {config.brand}.")

    if not t.prospect:
        contacts = _num(p, "service_contacts", 0) or 0
        if not t.service_known:
            pass  # no service data: nothing to say about their service needs
        elif t.role == "high_touch" or t.second_role == "high_touch":
            effort = _num(p, "mean_effort_score")
            effort_txt = f", with an effort of {effort:.1f}/10" if effort is not None else ""
            s.append(
                f"{he} needs a fair amount of hand-holding: {contacts:.1f} service contacts on average{effort_txt}."
            )
        elif contacts < 0.5:
            s.append(f"{he} buys quickly and easily and rarely needs our service.")
        late = _num(p, "late_payment_share", 0) or 0
        if late >= 0.3:
            days = _num(p, "mean_days_late")
            days_txt = f", {round(days)} days late on average" if days else ""
            s.append(f"{he} often pays late ({_pct(late)} of orders{days_txt}).")
        if (_num(p, "return_rate", 0) or 0) >= 0.15:
            s.append(f"{he} sends back {_pct(_num(p, 'return_rate'))} of the items {v.lower(he)} buys.")
    return " ".join(s)


def narrative_fr(p: dict, base: dict, t: Traits, v: _Voice, config: PersonaConfig) -> str:
    s: list[str] = []
    il = v.il
    age = _num(p, "age")
    who = {"male": "un homme", "female": "une femme"}.get(t.gender or "", "une personne")
    if age is None:
        who = {"male": "un client", "female": "une cliente"}.get(
            t.gender or "", "une personne de notre clientèle"
        )
    intro = f"{v.name} est {who}" + (f" de {round(age)} ans" if age is not None else "")
    web = p.get("web_savviness")
    if web in SAVVY_FR:
        masc, fem, level = SAVVY_FR[web]
        if t.gender == "male":
            intro += f" qui se considère comme « {masc} » sur le Web"
        elif t.gender == "female":
            intro += f" qui se considère comme « {fem} » sur le Web"
        else:
            intro += f" qui juge son niveau sur le Web « {level} »"
    s.append(intro + ".")
    share = {
        "store": _num(p, "share_store"),
        "online": _num(p, "share_online"),
        "phone": _num(p, "share_phone"),
    }
    if t.prospect:
        s.append(_prospect_sentence_fr(p, il, t))
    elif not t.multichannel:
        pass  # un seul canal dans toute la base : il ne distingue personne
    elif t.channel == "store":
        if t.researches_online:
            s.append(
                f"{il} préfère se renseigner en ligne mais acheter en magasin "
                f"({_pct_fr(share['store'])} de ses commandes)."
            )
        else:
            s.append(f"{il} se décide en magasin et y achète ({_pct_fr(share['store'])} de ses commandes).")
    elif t.channel == "online":
        if (share["online"] or 0) >= 0.85:
            s.append(
                f"{il} fait tous ses achats en ligne ({_pct_fr(share['online'])} des commandes) "
                "et préfère ne pas acheter en magasin."
            )
        else:
            s.append(f"{il} achète surtout en ligne ({_pct_fr(share['online'])} des commandes).")
    elif t.channel == "phone":
        after = ", après une recherche en ligne" if t.researches_online else ""
        surtout = "surtout" if (share["phone"] or 0) >= 0.5 else "souvent"
        s.append(f"{il} commande {surtout} par téléphone ({_pct_fr(share['phone'])} des commandes){after}.")
    elif t.channel == "mixed":
        s.append(
            f"{il} passe d'un canal à l'autre : {_pct_fr(share['online'])} des commandes en ligne, "
            f"{_pct_fr(share['store'])} en magasin, {_pct_fr(share['phone'])} par téléphone."
        )

    discount = _num(p, "discount_share", 0) or 0
    pays_more = discount < 0.15 and (
        p.get("main_motivation") in ("quality", "service", "brand")
        or (_num(p, "importance_service") or 0) >= 4
    )
    deal = f"{_pct_fr(discount)} de ses commandes bénéficient d'une remise"
    il_lower = v.lower(il)
    if t.loyalty == "lapsed":
        _, ago = _ago(_num(p, "recency_days", 0) or 0)
        s.append(f"Sa dernière commande remonte à {ago} : depuis, plus de nouvelles.")
    elif t.loyalty == "new":
        days = round(_num(p, "tenure_days", 0) or 0)
        s.append(f"{il} vient de découvrir la marque : sa première commande date d'il y a {days} jours.")
    elif t.loyalty in ("loyal", "occasional"):
        head = (
            f"{il} est fidèle à la marque"
            if t.loyalty == "loyal"
            else f"{il} achète chez nous de temps en temps"
        )
        brand = p.get("top_brand")
        if t.loyalty == "loyal" and brand and (_num(p, "brand_concentration", 0) or 0) >= 0.6:
            head += f" et privilégie {brand}"
        if pays_more:
            s.append(f"{head} et accepte de payer plus pour un service en lequel {il_lower} a confiance.")
        elif discount >= 0.4:
            s.append(f"{head}, mais attend les promotions : {deal}.")
        else:
            s.append(f"{head}.")

    if not t.prospect:
        aov = _num(p, "avg_order_value", 0) or 0
        cadence = _num(p, "mean_days_between_orders")
        frequency = round(_num(p, "frequency", 0) or 0)
        occasion = _num(p, "occasion_share", 0) or 0
        rhythm = _cadence(cadence)[1] if cadence is not None else None
        if t.loyalty == "lapsed" and rhythm and occasion < 0.4:
            s.append(f"{il} dépensait environ {_money_fr(aov, config.currency)} par commande, {rhythm}.")
        elif occasion >= 0.4:
            s.append(
                f"{il} achète surtout pour les occasions spéciales ({_pct_fr(occasion)} de ses commandes sont "
                f"des cadeaux, des fêtes ou des célébrations) et dépense {_spend_fr(aov, config.currency)} à chaque visite."
            )
        elif t.role == "big_basket" and rhythm:
            s.append(f"{il} passe de grosses commandes, {_spend_fr(aov, config.currency)} chacune, {rhythm}.")
        elif "frequent" in (t.role, t.second_role) and rhythm:
            s.append(
                f"{il} fait {_small_fr(aov, base)}achats fréquents, {rhythm}, d'environ {_money_fr(aov, config.currency)} à chaque fois."
            )
        elif rhythm:
            s.append(
                f"{il} dépense environ {_money_fr(aov, config.currency)} par commande et achète {rhythm}."
            )
        elif frequency <= 1:
            s.append(
                f"{il} n'a commandé qu'une fois pour l'instant, pour environ {_money_fr(aov, config.currency)}."
            )
        else:
            s.append(
                f"{il} a commandé {frequency} fois jusqu'ici, environ {_money_fr(aov, config.currency)} par commande."
            )
        if discount >= 0.4 and deal not in " ".join(s):
            s.append(f"{il} guette les bonnes affaires : {deal}.")

    if (_num(base, "social_known", 0) or 0) > 0:
        followers = _num(p, "social_followers", 0) or 0
        if (_num(p, "social_known", 0) or 0) >= 0.3 and followers >= 1000:
            platforms = round(_num(p, "social_platforms", 1) or 1)
            mentions = round(_num(p, "brand_mentions_90d", 0) or 0)
            reach = f"environ {_int_fr(round(followers, -2))} abonnés sur {platforms} plateforme{'s' if platforms > 1 else ''}"
            if followers >= 10_000:
                s.append(
                    f"{il} a une vraie audience, {reach} et {mentions} mentions de marques en 90 jours : "
                    "son avis circule."
                )
            else:
                s.append(f"{il} parle de ses achats avec son réseau : {reach}.")
        else:
            s.append(f"{il} n'a pas de réseau social actif.")

    if t.survey:
        obj = {"male": "le", "female": "la"}.get(t.gender or "")
        motivation, barrier = p.get("main_motivation"), p.get("main_barrier")
        if motivation in MOTIVATION_FR:
            who_is_drawn = "Ce qui l'attire" if obj else f"Ce qui attire {v.name}"
            s.append(f"{who_is_drawn} chez nous, {_cest(MOTIVATION_FR[motivation])}.")
        if barrier == "none":
            s.append(
                f"Rien de particulier ne {obj} freine." if obj else f"Rien de particulier ne freine {v.name}."
            )
        elif barrier in BARRIER_FR:
            brake = f"Ce qui {obj} freine" if obj else f"Ce qui freine {v.name}"
            s.append(f"{brake}, {_cest(BARRIER_FR[barrier])}.")
        discovery = p.get("discovery_channel")
        if discovery in DISCOVERY_FR:
            s.append(f"{il} nous a connus grâce {DISCOVERY_FR[discovery]}.")
        factors = _top_factors(p)
        if factors:
            listed = " et ".join(
                f"{FACTOR_FR[f]} ({f'{score:.1f}'.replace('.', ',')}/5)" for f, score in factors
            )
            s.append(f"Pour comparer les offres, {il_lower} regarde d'abord {listed}.")
        perception = p.get("brand_perception")
        if perception in PERCEPTION_FR:
            s.append(f"{il} voit {config.brand} comme {PERCEPTION_FR[perception]}.")
        elif perception == "unknown":
            s.append(f"{il} n'a pas d'image précise de {config.brand}.")

    if not t.prospect:
        contacts = _num(p, "service_contacts", 0) or 0
        if not t.service_known:
            pass  # pas de données de service : rien à dire de leurs besoins
        elif t.role == "high_touch" or t.second_role == "high_touch":
            effort = _num(p, "mean_effort_score")
            effort_txt = (
                f", pour un effort de {f'{effort:.1f}'.replace('.', ',')}/10" if effort is not None else ""
            )
            contacts_txt = f"{contacts:.1f}".replace(".", ",")
            s.append(
                f"{il} demande beaucoup d'accompagnement : {contacts_txt} contacts avec le service client "
                f"en moyenne{effort_txt}."
            )
        elif contacts < 0.5:
            s.append(f"{il} achète vite et simplement, sans presque jamais solliciter le service client.")
        late = _num(p, "late_payment_share", 0) or 0
        if late >= 0.3:
            days = _num(p, "mean_days_late")
            days_txt = f", avec {round(days)} jours de retard en moyenne" if days else ""
            s.append(f"{il} paie souvent en retard ({_pct_fr(late)} des commandes{days_txt}).")
        if (_num(p, "return_rate", 0) or 0) >= 0.15:
            s.append(f"{il} retourne {_pct_fr(_num(p, 'return_rate'))} des articles achetés.")
    return " ".join(s)


# --- positioning -----------------------------------------------------------------------------------

FEATURES = {  # motivation or decision factor: (English, French)
    "price": ("keen, transparent prices", "des prix justes et transparents"),
    "quality": ("lasting quality", "une qualité durable"),
    "brand": ("a name they trust", "une signature en laquelle ils ont confiance"),
    "service": ("attentive, personal service", "un service attentif et personnalisé"),
    "convenience": ("quick, effortless ordering", "une commande simple et rapide"),
    "features": ("the features they compare", "les fonctionnalités qu'ils comparent"),
    "values": ("responsible values", "des valeurs responsables"),
    "reviews": ("well-reviewed products", "des produits bien notés par les clients"),
}
BENEFITS = {  # role: (English, French)
    "occasion": (
        "the right gift for every occasion, ready on time",
        "le bon cadeau pour chaque occasion, prêt à temps",
    ),
    "bargain": ("good deals without doubts about quality", "de bonnes affaires sans douter de la qualité"),
    "big_basket": (
        "volume pricing and a dedicated account service",
        "des prix au volume et un interlocuteur dédié",
    ),
    "high_touch": (
        "help and advice whenever they need it",
        "de l'aide et des conseils dès qu'ils en ont besoin",
    ),
    "late_payer": (
        "payment terms that fit their budget",
        "des conditions de paiement adaptées à leur budget",
    ),
    "influencer": (
        "products their community will want to hear about",
        "des produits dont leur communauté aura envie d'entendre parler",
    ),
    "frequent": ("quick, easy buys they can share", "des achats rapides et faciles à partager"),
    "shopper": ("everyday value without hassle", "une valeur sûre au quotidien, sans complication"),
    "prospect": ("an easy first purchase", "un premier achat en toute simplicité"),
}
LOYALTY_FR = {  # (before the noun, after the noun)
    "loyal": ("fidèles ", ""),
    "occasional": ("", ""),
    "new": ("nouveaux ", ""),
    "lapsed": ("", ""),
    "prospect": ("", ""),
}


def _range_of(category: str, language: str) -> str:
    """'a range of home goods' / 'une gamme d'articles…' (the template's "a [category]")."""
    if language == "en":
        return f"a range of {category}"
    return f"une gamme d'{category}" if category[:1].lower() in "aeiouyéèh" else f"une gamme de {category}"


def positioning_from_claims(t: Traits, claims: list[ClaimRow], config: PersonaConfig) -> tuple[str, str]:
    """The seeds' template, in English and French, with target words only from holding claims:
    "[brand] offers [target] a [category] with [features] that gives them [benefits]." /
    « [marque] propose à [cible] une [catégorie] ayant [caractéristiques] qui leur offre [bénéfices]. »"""
    held = {c.claim for c in claims}
    mixture = next((c for c in held if c.startswith("mixture:")), None)
    age = next((c.split("=")[1] for c in held if c.startswith("age_band=")), None)
    if mixture:
        a, b = (ROLE_OF_CLAIM[k] for k in mixture.removeprefix("mixture:").split("+"))
        target_en = f"{ROLE_NAMES[a][1]} and {ROLE_NAMES[b][1]}"
        target_fr = f"aux {ROLE_NAMES[a][2]} et aux {ROLE_NAMES[b][2]}"
        benefit_en, benefit_fr = BENEFITS[a]
    else:
        loyalty = {"lapsed": ("lapsed", " qui se sont éloignés"), "repeat_buyer": ("loyal", " fidèles")}
        lo_en, lo_fr = next((v for k, v in loyalty.items() if k in held), ("", ""))
        channel = {"buys_in_store": ("in-store", "en magasin"), "buys_online": ("online", "en ligne"),
                   "buys_by_phone": ("phone-order", "par téléphone")}  # fmt: skip
        ch_en, ch_fr = next((v for k, v in channel.items() if k in held), ("", ""))
        target_en = " ".join(w for w in (lo_en, ch_en, ROLE_NAMES[t.role][1]) if w)
        low, _, high = (age or "").partition("-")
        age_fr = f" {AGE_TARGET_FR.get(age, f'de {low} à {high} ans')}" if age else ""
        target_fr = f"aux {ROLE_NAMES[t.role][2]}{age_fr}{lo_fr}"
        if ch_fr:
            target_fr += f" qui achètent {ch_fr}" if not lo_fr.startswith(" qui") else f" et achetaient {ch_fr}"
        benefit_en, benefit_fr = BENEFITS[t.role]
    if age:
        target_en += f" aged {AGE_TARGET_EN.get(age, age.replace('-', ' to '))}"
    keys = [c.split("=")[1] for c in held if c.startswith("main_motivation=")]
    keys += sorted(c.removeprefix("factor_") for c in held if c.startswith("factor_"))
    keys = [k for k in dict.fromkeys(keys) if k in FEATURES][:2] or (
        ["price"] if t.role == "bargain" else ["quality", "service"]
    )
    features_en = " and ".join(FEATURES[k][0] for k in keys)
    features_fr = " et ".join(FEATURES[k][1] for k in keys)
    category_en = _range_of(config.category_en, "en")
    category_fr = _range_of(config.category_fr, "fr")
    en = f"{config.brand} offers {target_en} {category_en} with {features_en} that gives them {benefit_en}."
    fr = f"« {config.brand} propose {target_fr} {category_fr} ayant {features_fr} qui leur offre {benefit_fr}. »"
    return en, fr


AGE_TARGET_EN = {"under 18": "under 18", "65+": "65 or over"}
AGE_TARGET_FR = {"under 18": "de moins de 18 ans", "65+": "de 65 ans ou plus"}


# --- recommended actions ---------------------------------------------------------------------------


def recommended_actions(p: dict, t: Traits, economics: dict | None) -> dict[str, str]:
    """Channel, message, cadence and service approach, from the profile's numbers and the segment ROI."""
    followers = _num(p, "social_followers", 0) or 0
    channel = {
        "store": "in store: personal advice and invitations to in-store events",
        "online": "email and app notifications",
        "phone": "outbound phone calls" + (" from a named account manager" if t.role == "big_basket" else ""),
        "mixed": "email plus in-store touchpoints",
        "none": f"retargeting through {DISCOVERY_EN.get(p.get('discovery_channel') or '', 'the channel that found them')}",
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


ROLE_OF_CLAIM = {
    "occasion_buyer": "occasion",
    "discount_driven": "bargain",
    "big_basket": "big_basket",
    "high_touch": "high_touch",
    "late_payer": "late_payer",
    "social_reach": "influencer",
    "frequent": "frequent",
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
    channel = next((ch for k, ch in CHANNEL_OF_CLAIM.items() if k in held), "mixed" if t.multichannel else "none")
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
        return f"Prospect found through {DISCOVERY_EN[discovery]}" if discovery else "Prospect"
    mixture = next((c for c in held if c.startswith("mixture:")), None)
    if mixture:
        a, b = (ROLE_OF_CLAIM[k] for k in mixture.removeprefix("mixture:").split("+"))
        return f"Two groups: {ROLE_NAMES[a][1]} and {ROLE_NAMES[b][1]}"
    words = [
        next((w for k, w in NAME_LOYALTY.items() if k in held), ""),
        next((w for k, w in NAME_CHANNEL.items() if k in held), ""),
        ROLE_NAMES[t.role][0],
    ]
    name = " ".join(w for w in words if w)
    return name[0].upper() + name[1:]


def build_personas(
    profile_with_segment: pl.DataFrame,
    economics: pl.DataFrame | None = None,
    *,
    config: PersonaConfig | None = None,
) -> pl.DataFrame:
    """One row per segment (see `build_personas_and_claims`)."""
    return build_personas_and_claims(profile_with_segment, economics, config=config)[0]


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
    claim_config = ClaimConfig(min_respondents=config.min_respondents)
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
            extra = ROLE_NAMES[t.second_role][0] if t.second_role else None
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
            pair = _tell(c, Voice(first, t.gender), config)
            if pair[0] in said or pair[1] in said:  # never a sentence another persona has: say the name
                pair = _tell(c, Voice(first, t.gender, named=True), config)
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


def _tell(c: ClaimRow, v: Voice, config: PersonaConfig) -> tuple[str, str]:
    return (
        sentence_en(c, v, config.brand, config.currency, config.value_basis),
        sentence_fr(c, v, config.brand, config.currency, config.value_basis),
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
