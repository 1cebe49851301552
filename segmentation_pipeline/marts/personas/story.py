"""A persona's story: each holding claim told by the one sentence plan (sentences.py) in English and
French (phrasebook_en.py, phrasebook_fr.py).

A sentence only ever says what its claim measured, with the claim's own figures (support share,
respondents, the segment's and the base's value) so a reader can check it in marts.segment_claims.
"""

from __future__ import annotations

from segmentation_pipeline.marts.personas import phrasebook_en, phrasebook_fr
from segmentation_pipeline.marts.personas.claims import ClaimRow
from segmentation_pipeline.marts.personas.sentences import Phrasebook, Sentence, plan_sentence, say

ENGLISH, FRENCH = Phrasebook.of(phrasebook_en), Phrasebook.of(phrasebook_fr)
PHRASEBOOKS = {"en": ENGLISH, "fr": FRENCH}


def say_in_both(
    sentence: Sentence, name: str = "", gender: str | None = None, named: bool = False, *, currency: str
) -> tuple[str, str]:
    """(English, French) wording of one planned sentence."""
    en, fr = (say(PHRASEBOOKS[lang], sentence, name, gender, named, currency) for lang in ("en", "fr"))
    return en, fr


def tell(
    claim: ClaimRow,
    name: str,
    gender: str | None,
    *,
    named: bool = False,
    brand: str,
    currency: str,
    basis: str,
) -> tuple[str, str]:
    """(English, French) sentence of a holding claim about the persona `name` (gender: male, female or
    None for a neutral persona; `named`: the first name as subject instead of a pronoun)."""
    return say_in_both(plan_sentence(claim, brand, basis), name, gender, named, currency=currency)
