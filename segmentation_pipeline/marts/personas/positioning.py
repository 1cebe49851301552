"""The positioning statement of a persona: planned once from its holding claims, worded by each phrasebook.

The seeds' template: "[brand] offers [target] a range of [category] with [features] that gives them
[benefits]" (« [marque] propose [cible] une gamme d'[catégorie] ayant [caractéristiques] qui leur offre
[bénéfices] »). The target uses only words of holding claims (two groups, loyalty, channel, age band,
the buying role); the features are the segment's main motivation and the decision factors that hold.
"""

from __future__ import annotations

from segmentation_pipeline.marts.personas.claims import ROLE_OF_CLAIM, ClaimRow
from segmentation_pipeline.marts.personas.config import PersonaConfig
from segmentation_pipeline.marts.personas.sentences import Sentence
from segmentation_pipeline.marts.personas.story import PHRASEBOOKS, say_in_both
from segmentation_pipeline.marts.personas.traits import Traits

LOYALTY_TARGET = {"lapsed": "lapsed", "repeat_buyer": "loyal"}  # claim -> the target's loyalty word
CHANNEL_TARGET = ("buys_in_store", "buys_online", "buys_by_phone")
FEATURE_KEYS = set(PHRASEBOOKS["en"].words["feature"])  # type: ignore[arg-type]


def plan_positioning(t: Traits, claims: list[ClaimRow], config: PersonaConfig) -> Sentence:
    """What the positioning statement says: its target's parts, its features and its benefit."""
    held = {c.claim for c in claims}
    mixture = next((c for c in held if c.startswith("mixture:")), None)
    age = next((c.split("=")[1] for c in held if c.startswith("age_band=")), "")
    if mixture:
        first, second = (ROLE_OF_CLAIM[k] for k in mixture.removeprefix("mixture:").split("+"))
        target = Sentence("target.mixture", {"first": first, "second": second, "age": age})
        benefit = first
    else:
        loyalty = next((word for k, word in LOYALTY_TARGET.items() if k in held), None)
        channel = next((k for k in CHANNEL_TARGET if k in held), None)
        parts = [p for p in (loyalty, "channel" if channel else None) if p]
        fields = {"role": t.role, "age": age, **({"channel": channel} if channel else {})}
        target = Sentence("target." + "+".join(parts) if parts else "target", fields)
        benefit = t.role
    keys = [c.split("=")[1] for c in held if c.startswith("main_motivation=")]
    keys += sorted(c.removeprefix("factor_") for c in held if c.startswith("factor_"))
    features = [k for k in dict.fromkeys(keys) if k in FEATURE_KEYS][:2] or (
        ["price"] if t.role == "bargain" else ["quality", "service"]
    )
    return Sentence(
        "positioning",
        {
            "brand": config.brand,
            "target": target,
            "category": {"en": config.category_en, "fr": config.category_fr},  # configured per language
            "features": tuple(features),
            "benefit": benefit,
        },
    )


def positioning_from_claims(t: Traits, claims: list[ClaimRow], config: PersonaConfig) -> tuple[str, str]:
    """(English, French) positioning statement."""
    return say_in_both(plan_positioning(t, claims, config), currency=config.currency)
