"""Two phrasebooks (English, French) for the one sentence plan of marts/personas/claims.py: a sentence per claim.

A sentence only ever says what its claim measured, with the claim's own figures (support share,
respondents, the segment's and the base's value) so a reader can check it in marts.segment_claims.
"""

from __future__ import annotations

from dataclasses import dataclass

from segmentation_pipeline.marts.personas.claims import ClaimRow
from segmentation_pipeline.models.money import format_money


@dataclass(frozen=True)
class Voice:
    """How a story refers to its character: he/she for a gendered persona, else the first name.

    `named` forces the first name as subject (used to keep a sentence unique across personas).
    """

    name: str
    gender: str | None  # female | male | None (neutral)
    named: bool = False

    def _g(self, male: str, female: str, neutral: str) -> str:
        if self.named or self.gender not in ("male", "female"):
            return neutral
        return male if self.gender == "male" else female

    @property
    def he(self) -> str:
        return self._g("He", "She", self.name)

    @property
    def he_(self) -> str:  # inside a sentence
        return self._g("he", "she", self.name)

    @property
    def him(self) -> str:
        return self._g("him", "her", self.name)

    @property
    def his(self) -> str:
        return self._g("His", "Her", f"{self.name}'s")

    @property
    def his_(self) -> str:
        return self._g("his", "her", "their")

    @property
    def himself(self) -> str:
        return self._g("himself", "herself", "themselves")

    @property
    def il(self) -> str:
        return self._g("Il", "Elle", self.name)

    @property
    def il_(self) -> str:
        return self._g("il", "elle", self.name)

    def obj_fr(self, verb_phrase: str) -> str:
        """'l'attire' / 'le freine' with a pronoun, 'attire Léa' / 'freine Léa' with the name."""
        if self._g("m", "f", "") == "":
            return f"{verb_phrase} {self.name}"
        pronoun = "le" if self.gender == "male" else "la"
        return f"l'{verb_phrase}" if verb_phrase[0] in "aeiouyéh" else f"{pronoun} {verb_phrase}"


def pct_en(x: float) -> str:
    return f"{round(x * 100)}%"


def pct_fr(x: float) -> str:
    return f"{round(x * 100)}\u00a0%"


AGE_EN = {"under 18": "under 18", "65+": "65 or over"}
AGE_FR = {"under 18": "moins de 18 ans", "65+": "65 ans ou plus"}
INCOME = {  # band: (English, French)
    "lt_20k": ("under 20k a year", "moins de 20 k par an"),
    "20k_40k": ("20k to 40k a year", "20 à 40 k par an"),
    "40k_70k": ("40k to 70k a year", "40 à 70 k par an"),
    "70k_100k": ("70k to 100k a year", "70 à 100 k par an"),
    "gt_100k": ("over 100k a year", "plus de 100 k par an"),
}
SAVVY_EN = {"low": "a beginner", "average": "average", "high": "very savvy"}
SAVVY_FR = {"low": ("débutant", "débutante", "faible"), "average": ("moyen", "moyenne", "moyen"),
            "high": ("très avisé", "très avisée", "très bon")}  # fmt: skip
MOTIVATION = {
    "price": ("a good price", "le prix"),
    "quality": ("quality", "la qualité"),
    "brand": ("the brand itself", "la marque elle-même"),
    "service": ("the service", "le service"),
    "convenience": ("convenience", "la simplicité"),
    "features": ("the product features", "les caractéristiques des produits"),
    "values": ("what the brand stands for", "les valeurs de la marque"),
    "other": ("a mix of reasons", "un ensemble de raisons"),
}
BARRIER = {
    "price": ("price", "le prix"),
    "missing_feature": ("a feature missing from our range", "une fonctionnalité absente de notre gamme"),
    "trust": ("a lack of trust", "un manque de confiance"),
    "awareness": ("not knowing everything we offer", "une connaissance incomplète de notre offre"),
    "delivery": ("delivery", "la livraison"),
    "payment": ("the payment options", "les moyens de paiement"),
    "other": ("other reasons", "d'autres raisons"),
}
DISCOVERY = {  # French after "grâce"
    "campaign": ("one of our campaigns", "à une de nos campagnes"),
    "referral": ("a recommendation from someone close", "à la recommandation d'un proche"),
    "search": ("an online search", "à une recherche en ligne"),
    "social": ("social media", "aux réseaux sociaux"),
    "store": ("a visit to one of our stores", "à une visite en magasin"),
    "press": ("the press", "à la presse"),
    "other": ("other channels", "à d'autres canaux"),
}
PERCEPTION = {
    "reliable": ("a reliable player", "un acteur fiable"),
    "innovative": ("an innovative brand", "une marque novatrice"),
    "leader": ("a leader in its field", "un leader de son secteur"),
    "average": ("an average brand, nothing special", "une marque moyenne, sans plus"),
    "outdated": ("a brand that has aged", "une marque vieillissante"),
}
FACTOR = {
    "price": ("price", "le prix"),
    "brand": ("brand image", "l'image de marque"),
    "reviews": ("customer reviews", "les avis clients"),
    "features": ("the product's features", "les caractéristiques du produit"),
    "service": ("service", "le service"),
}
GROUPS = {  # role claims as the members of a group: (English, French)
    "occasion_buyer": ("buy mostly for special occasions", "achètent surtout pour des occasions spéciales"),
    "discount_driven": ("get a fifth or more of what they spend as discounts",
                        "reçoivent en remises au moins un cinquième de ce qu'ils dépensent"),
    "big_basket": ("spend twice the typical order or more", "dépensent au moins deux fois la commande type"),
    "high_touch": ("opened two or more service tickets", "ont ouvert au moins deux demandes au service client"),
    "late_payer": ("pay 30% or more of their orders late", "paient en retard au moins 30\u00a0% de leurs commandes"),
    "social_reach": ("have 1,000 followers or more", "ont au moins 1\u202f000 abonnés"),
    "frequent": ("order every 45 days or more often", "commandent au moins tous les 45 jours"),
}  # fmt: skip
BASIS = {"margin": ("in margin", "en marge"), "revenue": ("in revenue", "en chiffre d'affaires")}


def _word(book: dict[str, tuple[str, str]], value: str, language: int) -> str:
    """The phrasebook's words for an answer; an answer it does not know is quoted as recorded."""
    return book[value][language] if value in book else f"\u201c{value}\u201d"


def _age_en(band: str) -> str:
    return AGE_EN.get(band, band.replace("-", " to "))


def _age_fr(band: str) -> str:
    low, _, high = band.partition("-")
    return AGE_FR.get(band, f"entre {low} et {high} ans")


def sentence_en(c: ClaimRow, v: Voice, brand: str, currency: str, basis: str) -> str:
    key, _, val = c.claim.partition("=")
    p, n = pct_en(c.support_share), c.known_customers
    money = (lambda x: format_money(x, currency, "en", whole=True)) if c.kind == "statistic" else None
    resp = f"({p} of the {n:,} respondents)"
    if key == "size":
        return (
            f"{v.name} stands for {round(c.value):,} customers, {pct_en(c.value / c.base_value)} of the base."
        )
    if key == "gender":
        noun = "man" if val == "male" else "woman"
        return f"{v.name} is a {noun}, as are {p} of the customers {'he' if val == 'male' else 'she'} stands for."
    if key.startswith("mixture:"):
        a, b = key.removeprefix("mixture:").split("+")
        return (f"These customers are two groups, not one: {pct_en(c.value)} {GROUPS[a][0]}, while "
                f"{pct_en(c.base_value)} {GROUPS[b][0]}.")  # fmt: skip
    text = {
        "age_band": lambda: f"{v.he} is {_age_en(val)} years old, like {p} of them.",
        "income_band": lambda: f"{v.his} income is {INCOME[val][0]}, the band of {p} of them.",
        "region": lambda: f"{v.he} lives in {val}, like {p} of them.",
        "city": lambda: f"{v.he} lives in the city of {val}, like {p} of them.",
        "profession": lambda: f"{v.his} profession is {val}, shared by {p} of them.",
        "web_savviness": lambda: f"{v.he} considers {v.himself} \u201c{SAVVY_EN[val]}\u201d on the web, as {p} of them do.",
        "never_ordered": lambda: f"{v.he} has not bought from us yet: {p} of these prospects never placed an order.",
        "ordered_and_returned": lambda: f"{v.he} has ordered from us but returned or cancelled everything so far, like {p} of these prospects.",
        "buys_in_store": lambda: f"{v.he} buys in store: {p} of them place at least half their orders there.",
        "buys_online": lambda: f"{v.he} buys online: {p} of them place at least half their orders on the web.",
        "buys_by_phone": lambda: f"{v.he} orders by phone: {p} of them place at least half their orders that way.",
        "repeat_buyer": lambda: f"{v.he} comes back: {p} of them have ordered at least twice.",
        "one_order": lambda: f"{v.he} has ordered once so far, like {p} of them.",
        "lapsed": lambda: f"{v.he} has drifted away: {p} of them have not ordered for 180 days or more.",
        "frequent": lambda: f"{v.he} buys often: {p} of them order every 45 days or more often.",
        "occasion_buyer": lambda: f"{v.he} buys for special occasions: for {p} of them, gifts, holidays or celebrations make up 40% or more of their orders.",
        "big_basket": lambda: f"{v.he} fills big baskets: {p} of them spend twice the base's median order or more each time.",
        "median_order_value": lambda: f"{v.his} typical order is {money(c.value)} (median), against {money(c.base_value)} across all customers.",
        "discount_driven": lambda: f"{v.he} waits for promotions: {p} of them get 20% or more of what they spend as discounts.",
        "returns_often": lambda: f"{v.he} sends things back: {p} of them return 15% or more of the items they buy.",
        "late_payer": lambda: f"{v.he} often pays late: {p} of them pay 30% or more of their orders late.",
        "social_reach": lambda: f"{v.he} talks about {v.his_} purchases with a network: {p} of them have 1,000 followers or more.",
        "no_social": lambda: f"{v.he} has no active social network: {p} of them have under 100 followers or no account we can see.",
        "main_motivation": lambda: f"What brings {v.him} to us is {_word(MOTIVATION, val, 0)} {resp}.",
        "main_barrier": lambda: (f"Nothing in particular holds {v.him} back {resp}." if val == "none"
                                 else f"What holds {v.him} back is {_word(BARRIER, val, 0)} {resp}."),
        "discovery_channel": lambda: f"{v.he} first heard of us through {_word(DISCOVERY, val, 0)} {resp}.",
        "brand_perception": lambda: (f"{v.he} has no clear picture of {brand} {resp}." if val == "unknown"
                                     else f"{v.he} sees {brand} as {_word(PERCEPTION, val, 0)} {resp}."),
        "no_service_need": lambda: f"{v.he} buys without needing us: {p} of them never opened a service ticket.",
        "high_touch": lambda: f"{v.he} needs a fair amount of hand-holding: {p} of them opened two or more service tickets.",
        "costs_more_than_brings": lambda: f"For {p} of them, serving them is expected to cost more than they bring over the next 12 months.",
        "mean_cost_to_serve_12m": lambda: f"Serving {v.him} is expected to cost {money(c.value)} over the next 12 months (mean per customer), against {money(c.base_value)} across all customers.",
        "mean_clv_12m": lambda: f"Over the next 12 months {v.he_} is expected to bring {money(c.value)} {BASIS[basis][0]} (mean per customer), against {money(c.base_value)} across all customers.",
    }  # fmt: skip
    if key.startswith("factor_"):
        factor = FACTOR[key.removeprefix("factor_")][0]
        return f"When comparing offers, {v.he_} weighs {factor}: {p} of the {n:,} respondents rate it 4 or 5 out of 5."
    return text[key]()


def sentence_fr(c: ClaimRow, v: Voice, brand: str, currency: str, basis: str) -> str:
    key, _, val = c.claim.partition("=")
    p, n = pct_fr(c.support_share), c.known_customers
    money = (lambda x: format_money(x, currency, "fr", whole=True)) if c.kind == "statistic" else None
    resp = f"({p} des {n:,} répondants)".replace(",", "\u202f")
    dont = "d'entre eux"
    if key == "size":
        count = f"{round(c.value):,}".replace(",", "\u202f")
        return f"{v.name} représente {count} clients, soit {pct_fr(c.value / c.base_value)} de la base."
    if key == "gender":
        noun, pronoun = ("un homme", "il") if val == "male" else ("une femme", "elle")
        return f"{v.name} est {noun}, comme {p} des clients qu'{pronoun} représente."
    if key.startswith("mixture:"):
        a, b = key.removeprefix("mixture:").split("+")
        return (f"Ces clients forment deux groupes, pas un seul : {pct_fr(c.value)} {GROUPS[a][1]}, tandis que "
                f"{pct_fr(c.base_value)} {GROUPS[b][1]}.")  # fmt: skip
    if key == "web_savviness":
        masc, fem, level = SAVVY_FR[val]
        if v._g("m", "f", "") == "":
            return f"{v.name} juge son niveau sur le Web « {level} », comme {p} {dont}."
        word = masc if v.gender == "male" else fem
        return f"{v.il} se considère comme « {word} » sur le Web, comme {p} {dont}."
    text = {
        "age_band": lambda: f"{v.il} a {_age_fr(val)}, comme {p} {dont}.",
        "income_band": lambda: f"Son revenu est de {INCOME[val][1]}, la tranche de {p} {dont}.",
        "region": lambda: f"{v.il} vit en région {val}, comme {p} {dont}.",
        "city": lambda: f"{v.il} habite à {val}, comme {p} {dont}.",
        "profession": lambda: f"{v.il} exerce le métier de {val}, comme {p} {dont}.",
        "never_ordered": lambda: f"{v.il} n'a encore rien acheté chez nous : {p} de ces prospects n'ont jamais commandé.",
        "ordered_and_returned": lambda: f"{v.il} a déjà commandé chez nous mais a tout retourné ou annulé, comme {p} de ces prospects.",
        "buys_in_store": lambda: f"{v.il} achète en magasin : {p} {dont} y passent au moins la moitié de leurs commandes.",
        "buys_online": lambda: f"{v.il} achète en ligne : {p} {dont} y passent au moins la moitié de leurs commandes.",
        "buys_by_phone": lambda: f"{v.il} commande par téléphone : {p} {dont} passent ainsi au moins la moitié de leurs commandes.",
        "repeat_buyer": lambda: f"{v.il} revient : {p} {dont} ont commandé au moins deux fois.",
        "one_order": lambda: f"{v.il} n'a commandé qu'une fois pour l'instant, comme {p} {dont}.",
        "lapsed": lambda: f"{v.il} ne commande plus : {p} {dont} n'ont rien commandé depuis 180 jours ou plus.",
        "frequent": lambda: f"{v.il} achète souvent : {p} {dont} commandent au moins tous les 45 jours.",
        "occasion_buyer": lambda: f"{v.il} achète pour les grandes occasions : pour {p} {dont}, cadeaux, fêtes et célébrations font au moins 40\u00a0% des commandes.",
        "big_basket": lambda: f"{v.il} fait de gros paniers : {p} {dont} dépensent à chaque commande au moins deux fois la commande médiane de la base.",
        "median_order_value": lambda: f"Sa commande type s'élève à {money(c.value)} (médiane), contre {money(c.base_value)} pour l'ensemble des clients.",
        "discount_driven": lambda: f"{v.il} attend les promotions : {p} {dont} reçoivent en remises au moins 20\u00a0% de ce qu'ils dépensent.",
        "returns_often": lambda: f"{v.il} renvoie souvent ses achats : {p} {dont} retournent au moins 15\u00a0% des articles achetés.",
        "late_payer": lambda: f"{v.il} paie souvent en retard : {p} {dont} règlent au moins 30\u00a0% de leurs commandes en retard.",
        "social_reach": lambda: f"{v.il} parle de ses achats à son réseau : {p} {dont} ont au moins 1\u202f000 abonnés.",
        "no_social": lambda: f"{v.il} n'a pas de réseau social actif : {p} {dont} ont moins de 100 abonnés ou aucun compte visible.",
        "main_motivation": lambda: f"Ce qui {v.obj_fr('attire')} chez nous, c'est {_word(MOTIVATION, val, 1)} {resp}.".replace("c'est les", "ce sont les"),
        "main_barrier": lambda: (f"Rien de particulier ne {v.obj_fr('freine')} {resp}." if val == "none"
                                 else f"Ce qui {v.obj_fr('freine')}, c'est {_word(BARRIER, val, 1)} {resp}.".replace("c'est les", "ce sont les").replace("c'est d'autres", "ce sont d'autres")),
        "discovery_channel": lambda: f"{v.il} nous a connus grâce {_word(DISCOVERY, val, 1)} {resp}.",
        "brand_perception": lambda: (f"{v.il} n'a pas d'image précise de {brand} {resp}." if val == "unknown"
                                     else f"{v.il} voit {brand} comme {_word(PERCEPTION, val, 1)} {resp}."),
        "no_service_need": lambda: f"{v.il} achète vite et simplement : {p} {dont} n'ont jamais sollicité le service client.",
        "high_touch": lambda: f"{v.il} demande beaucoup d'accompagnement : {p} {dont} ont ouvert au moins deux demandes au service client.",
        "costs_more_than_brings": lambda: f"Pour {p} {dont}, le service devrait coûter plus que ce qu'ils rapporteront sur les 12 prochains mois.",
        "mean_cost_to_serve_12m": lambda: f"Servir {v.name if v._g('m', 'f', '') == '' else ('ce client' if v.gender == 'male' else 'cette cliente')} devrait coûter {money(c.value)} sur les 12 prochains mois (moyenne par client), contre {money(c.base_value)} pour l'ensemble des clients.",
        "mean_clv_12m": lambda: f"Sur les 12 prochains mois, {v.il_} devrait rapporter {money(c.value)} {BASIS[basis][1]} (moyenne par client), contre {money(c.base_value)} pour l'ensemble des clients.",
    }  # fmt: skip
    if key.startswith("factor_"):
        factor = FACTOR[key.removeprefix("factor_")][1]
        count = f"{n:,}".replace(",", "\u202f")
        return f"Pour comparer les offres, {v.il_} regarde {factor} : {p} des {count} répondants lui donnent 4 ou 5 sur 5."
    return text[key]()
