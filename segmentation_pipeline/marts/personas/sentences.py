"""The sentence plan, written once for every language: which sentence a holding claim is told by, with
which figures; and the phrasebook machinery that words a planned sentence in one language.

`plan_sentence` turns a claim (marts/personas/claims.py) into a `Sentence`: a phrasebook key and
language-neutral fields (shares 0-1, counts, amounts, answer codes as recorded). A `Phrasebook`
(phrasebook_en.py, phrasebook_fr.py) maps each key to a template with named fields,
``"{v.he} comes back: {share:pct} of them have ordered at least twice."``: `{v.…}` is the
language's voice (pronouns, or the first name), a field's format spec says how to word it (`pct`,
`count`, `money` through Babel, or the name of one of the phrasebook's word lists). A template that
must be built differently for a man, a woman or a neutral persona is a `Voiced` triple. Both
phrasebooks have the same keys and, per key, the same fields (a unit test holds them to it), so both
languages say the same sentences with the same figures.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType, SimpleNamespace

from segmentation_pipeline.marts.personas.claims import ClaimRow
from segmentation_pipeline.models.money import format_money


@dataclass(frozen=True)
class Sentence:
    key: str  # the phrasebook entry
    fields: dict[str, object]  # language-neutral values: shares, counts, amounts, answer codes


def _split(claim: str) -> tuple[str, str]:
    key, _, value = claim.partition("=")
    return key, value


# Claims whose sentence needs only the support share (every share claim but the survey factors).
SHARE_SENTENCES = (
    "never_ordered", "ordered_and_returned", "buys_in_store", "buys_online", "buys_by_phone", "repeat_buyer",
    "one_order", "lapsed", "frequent", "occasion_buyer", "big_basket", "discount_driven", "returns_often",
    "late_payer", "social_reach", "no_social", "no_service_need", "high_touch", "costs_more_than_brings",
)  # fmt: skip
# Mode claims of the profile: claim -> the field that carries the answer.
PROFILE_MODES = {"age_band": "age", "income_band": "income", "region": "region", "city": "city",
                 "profession": "profession", "web_savviness": "savvy", "gender": "gender"}  # fmt: skip
# Survey answers with a sentence of their own for one answer ("nothing holds them back", "no clear picture").
SPECIAL_ANSWERS = {"main_barrier": "none", "brand_perception": "unknown"}


def plan_sentence(c: ClaimRow, brand: str, basis: str) -> Sentence:
    """The sentence that tells a holding claim, and the figures it says (the claim's own)."""
    key, value = _split(c.claim)
    share = c.support_share
    if key == "size":
        return Sentence("size", {"customers": round(c.value), "share": c.value / c.base_value})
    if key.startswith("mixture:"):
        first, second = key.removeprefix("mixture:").split("+")
        return Sentence("mixture", {"first": first, "first_share": c.value, "second": second,
                                    "second_share": c.base_value})  # fmt: skip
    if key in PROFILE_MODES:
        return Sentence(key, {PROFILE_MODES[key]: value, "share": share})
    if key in SHARE_SENTENCES:
        return Sentence(key, {"share": share})
    survey = {"share": share, "respondents": c.known_customers}
    if key.startswith("factor_"):
        return Sentence("factor", {"factor": key.removeprefix("factor_"), **survey})
    if key in ("main_motivation", "main_barrier", "discovery_channel", "brand_perception"):
        fields = {"brand": brand} if key == "brand_perception" else {}
        if SPECIAL_ANSWERS.get(key) == value:
            return Sentence(f"{key}.{value}", {**fields, **survey})
        return Sentence(key, {**fields, "answer": value, **survey})
    if key in ("median_order_value", "mean_cost_to_serve_12m", "mean_clv_12m"):
        fields = {"value": c.value, "base": c.base_value}
        return Sentence(key, {**fields, "basis": basis} if key == "mean_clv_12m" else fields)
    raise KeyError(f"no sentence in the plan for claim {c.claim!r}")


@dataclass(frozen=True)
class Voiced:
    """A template built differently for a man, a woman and a neutral persona (told by first name)."""

    male: str
    female: str
    neutral: str


Words = Mapping[str, str] | Callable[[str], str]


@dataclass(frozen=True)
class Phrasebook:
    language: str  # en | fr: Babel's locale for money
    sentences: dict[str, str | Voiced]
    words: dict[str, Words]  # word lists a field's format spec names: answer code -> words
    pronouns: dict[str, tuple[str, str, str]]  # {v.<name>}: (male, female, neutral; "{name}" = first name)
    percent: str  # "{}%": a whole percentage
    thousands: str  # the thousands separator of counts
    agreements: tuple[tuple[str, str], ...] = field(default=())  # (said, written) after wording

    @classmethod
    def of(cls, module: ModuleType) -> Phrasebook:
        """The phrasebook a module writes: LANGUAGE, SENTENCES, WORDS, PRONOUNS, PERCENT, THOUSANDS and
        optionally AGREEMENTS."""
        names = ("language", "sentences", "words", "pronouns", "percent", "thousands")
        return cls(
            **{n: getattr(module, n.upper()) for n in names}, agreements=getattr(module, "AGREEMENTS", ())
        )

    def word(self, book: str, value: object) -> str:
        """The words for an answer; an answer the list does not know is quoted as recorded. A list
        that is a function words the value itself (an age band, the features of a positioning)."""
        words = self.words[book]
        if callable(words):
            return words(value)
        return words.get(str(value), f"\u201c{value}\u201d")


def voice_form(gender: str | None, named: bool) -> str:
    """male | female | neutral: neutral for a persona without a gender, or told by name (`named`)."""
    return "neutral" if named or gender not in ("male", "female") else gender


class _Wording(string.Formatter):
    def __init__(self, book: Phrasebook, persona: tuple[str, str | None, bool], currency: str) -> None:
        self.book, self.persona, self.currency = book, persona, currency

    def format_field(self, value: object, format_spec: str) -> str:
        if isinstance(value, Sentence):  # a phrase planned inside the sentence (a positioning's target)
            return say(self.book, value, *self.persona, self.currency)
        if isinstance(value, Mapping):  # configured text, one per language (the brand's category)
            value = value[self.book.language]
        if format_spec == "pct":
            return self.book.percent.format(round(float(value) * 100))  # type: ignore[arg-type]
        if format_spec == "count":
            return f"{value:,}".replace(",", self.book.thousands)
        if format_spec == "money":
            return format_money(value, self.currency, self.book.language, whole=True)  # type: ignore[arg-type]
        if format_spec:
            return self.book.word(format_spec, value)
        return str(value)


def say(
    book: Phrasebook, sentence: Sentence, name: str, gender: str | None, named: bool, currency: str
) -> str:
    """A planned sentence in the phrasebook's language, told of the persona `name`."""
    form = voice_form(gender, named)
    index = ("male", "female", "neutral").index(form)
    voice = SimpleNamespace(
        name=name, **{k: forms[index].format(name=name) for k, forms in book.pronouns.items()}
    )
    template = book.sentences[sentence.key]
    if isinstance(template, Voiced):
        template = getattr(template, form)
    text = _Wording(book, (name, gender, named), currency).format(template, v=voice, **sentence.fields)
    for said, written in book.agreements:
        text = text.replace(said, written)
    return text


def template_fields(template: str | Voiced) -> dict[str, set[str]]:
    """Per variant, the sentence fields a template names (the voice's `v.…` apart)."""
    variants = [template] if isinstance(template, str) else [template.male, template.female, template.neutral]
    return {
        v: {f.split(".")[0].split("[")[0] for _, f, _, _ in string.Formatter().parse(v) if f} - {"v"}
        for v in variants
    }
