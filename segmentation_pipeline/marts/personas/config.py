"""PersonaConfig: what the personas are told with (brand, category per language, currency, value
basis) and the thresholds they are read with."""

from __future__ import annotations

from dataclasses import dataclass


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
