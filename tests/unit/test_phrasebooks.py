"""One sentence plan, two phrasebooks: the same sentences with the same figures in English and French."""

from __future__ import annotations

import re
import string
from collections import Counter

import pytest

from segmentation_pipeline.marts.personas import personas as ps
from segmentation_pipeline.marts.personas.claims import PLAN, SHARE_CLAIMS, STATISTICS, ClaimRow
from segmentation_pipeline.marts.personas.sentences import Voiced, plan_sentence, template_fields
from segmentation_pipeline.marts.personas.story import ENGLISH, FRENCH, tell
from tests.unit.test_personas import JOE, MICHEL, SARAH, make_profile

ANSWERS = {  # mode claims: a few answers each, the ones with a sentence of their own and one nobody expects
    "gender": ["male", "female"],
    "age_band": ["under 18", "25-34", "65+"],
    "income_band": ["lt_20k", "70k_100k", "gt_100k"],
    "region": ["Bretagne"],
    "city": ["Lyon"],
    "profession": ["teacher"],
    "web_savviness": ["low", "average", "high"],
    "main_motivation": ["price", "features", "other", "not-in-the-list"],
    "main_barrier": ["none", "payment", "other"],
    "discovery_channel": ["search", "social", "other"],
    "brand_perception": ["unknown", "reliable", "outdated"],
}


def every_claim() -> list[ClaimRow]:
    """A claim of every kind the plan tells, with figures in the thousands."""
    claims = [ClaimRow(1, "size", "size", 1234.0, 5000.0, 1.0, 1234)]
    claims += [ClaimRow(1, k, "share", 0.5, 0.3, 0.734, 1234) for k in SHARE_CLAIMS]
    claims += [
        ClaimRow(1, f"{column}={v}", "mode", 0.81, 0.4, 0.81, 12345)
        for column, vs in ANSWERS.items()
        for v in vs
    ]
    claims += [ClaimRow(1, k, "statistic", 1234.567, 80.2, 0.7, 99) for k in STATISTICS]
    claims.append(ClaimRow(1, "mixture:occasion_buyer+discount_driven", "mixture", 0.55, 0.45, 0.9, 20))
    return claims


def figures(text: str) -> Counter:
    """The numbers a sentence says, thousands separators (',' or a narrow space) removed."""
    return Counter(re.sub(r"[,\u202f]", "", n) for n in re.findall(r"\d+(?:[,\u202f]\d{3})*", text))


def test_both_phrasebooks_have_the_same_keys_and_fields():
    assert set(ENGLISH.sentences) == set(FRENCH.sentences)
    for key, english in ENGLISH.sentences.items():
        variants = [*template_fields(english).values(), *template_fields(FRENCH.sentences[key]).values()]
        assert all(v == variants[0] for v in variants), key
    for book in (ENGLISH, FRENCH):  # every word list a template names is in its phrasebook
        for template in book.sentences.values():
            for text in [template] if isinstance(template, str) else vars(template).values():
                specs = {spec for _, f, spec, _ in string.Formatter().parse(text) if f and spec}
                assert specs - {"pct", "count", "money"} <= set(book.words), (book.language, text)


def test_the_plan_has_a_sentence_for_every_claim_with_its_fields():
    claims = every_claim()
    told = {c.claim.split("=")[0].split(":")[0] for c in claims}
    assert told == set(PLAN)  # every step of the plan is exercised here
    for c in claims:
        sentence = plan_sentence(c, "Maison Exemple", "margin")
        for fields in template_fields(ENGLISH.sentences[sentence.key]).values():
            assert fields == set(sentence.fields), sentence.key


@pytest.mark.parametrize(
    "gender,named", [("male", False), ("female", False), (None, False), ("female", True)]
)
def test_same_claims_same_figures_in_both_languages(gender, named):
    for c in every_claim():
        en, fr = tell(c, "Léa", gender, named=named, brand="Maison Exemple", currency="GBP", basis="revenue")
        assert en and fr and en.endswith(".") and fr.endswith(".")
        assert figures(en) == figures(fr), (en, fr)
        assert "{" not in en + fr and "None" not in en + fr


def test_a_neutral_french_persona_is_told_by_name():
    savvy = ClaimRow(1, "web_savviness=high", "mode", 0.8, 0.3, 0.8, 10)
    said = {
        g: tell(savvy, "Sacha", g, brand="B", currency="EUR", basis="margin")[1]
        for g in ("male", "female", None)
    }
    assert said == {
        "male": "Il se considère comme « très avisé » sur le Web, comme 80\u00a0% d'entre eux.",
        "female": "Elle se considère comme « très avisée » sur le Web, comme 80\u00a0% d'entre eux.",
        None: "Sacha juge son niveau sur le Web « très bon », comme 80\u00a0% d'entre eux.",
    }
    assert isinstance(FRENCH.sentences["web_savviness"], Voiced)


def test_personas_say_as_many_sentences_with_the_same_figures_in_both_languages():
    profile = make_profile({1: JOE, 2: SARAH, 3: MICHEL})
    personas, claims = ps.build_personas_and_claims(profile)
    for row in personas.iter_rows(named=True):
        mine = claims.filter(claims["segment_id"] == row["segment_id"]).sort("sentence")
        assert mine.height > 5
        assert row["narrative_en"] == " ".join(mine["text_en"]) and row["narrative_fr"] == " ".join(
            mine["text_fr"]
        )
        for en, fr in zip(mine["text_en"], mine["text_fr"], strict=True):
            assert figures(en) == figures(fr), (en, fr)


@pytest.mark.parametrize(
    "held",
    [
        ["mixture:occasion_buyer+discount_driven", "age_band=35-44"],
        ["lapsed", "buys_in_store", "age_band=65+", "main_motivation=values"],
        ["repeat_buyer", "buys_online", "factor_reviews", "factor_price"],
        [],
    ],
)
def test_a_positioning_says_the_same_target_in_both_languages(held):
    claims = [ClaimRow(1, k, "share", 0.5, 0.3, 0.7, 10) for k in held]
    traits = ps.Traits(False, "mixed", False, "occasional", "occasion", None, None, True)
    en, fr = ps.positioning_from_claims(traits, claims, ps.PersonaConfig())
    assert figures(en) == figures(fr), (en, fr)
    assert en.startswith("Maison Exemple offers ") and fr.startswith("« Maison Exemple propose aux ")
