"""Le phrasebook français des histoires de personas : un modèle par phrase du plan (sentences.py)."""

from __future__ import annotations

from segmentation_pipeline.marts.personas.sentences import Voiced

LANGUAGE = "fr"  # Babel's locale for money
PERCENT = "{}\u00a0%"  # a whole percentage
THOUSANDS = "\u202f"  # the thousands separator of counts
PRONOUNS = {"il": ("Il", "Elle", "{name}"), "il_": ("il", "elle", "{name}")}
# « c'est » before a plural answer (« les caractéristiques », « d'autres raisons »).
AGREEMENTS = (("c'est les", "ce sont les"), ("c'est d'autres", "ce sont d'autres"))
RESPONDENTS = "({share:pct} des {respondents:count} répondants)"
AGES = {"under 18": "moins de 18 ans", "65+": "65 ans ou plus"}


def _age(band: str) -> str:
    low, _, high = band.partition("-")
    return AGES.get(band, f"entre {low} et {high} ans")


SENTENCES: dict[str, str | Voiced] = {
    "size": "{v.name} représente {customers:count} clients, soit {share:pct} de la base.",
    "gender": "{v.name} est {gender:noun}, comme {share:pct} des clients qu'{gender:pronoun} représente.",
    "mixture": "Ces clients forment deux groupes, pas un seul : {first_share:pct} {first:group}, tandis que "
    "{second_share:pct} {second:group}.",
    "age_band": "{v.il} a {age:age}, comme {share:pct} d'entre eux.",
    "income_band": "Son revenu est de {income:income}, la tranche de {share:pct} d'entre eux.",
    "region": "{v.il} vit en région {region}, comme {share:pct} d'entre eux.",
    "city": "{v.il} habite à {city}, comme {share:pct} d'entre eux.",
    "profession": "{v.il} exerce le métier de {profession}, comme {share:pct} d'entre eux.",
    "web_savviness": Voiced(
        male="{v.il} se considère comme « {savvy:savvy_m} » sur le Web, comme {share:pct} d'entre eux.",
        female="{v.il} se considère comme « {savvy:savvy_f} » sur le Web, comme {share:pct} d'entre eux.",
        neutral="{v.name} juge son niveau sur le Web « {savvy:savvy_level} », comme {share:pct} d'entre eux.",
    ),
    "never_ordered": "{v.il} n'a encore rien acheté chez nous : {share:pct} de ces prospects n'ont jamais commandé.",
    "ordered_and_returned": "{v.il} a déjà commandé chez nous mais a tout retourné ou annulé, comme {share:pct} "
    "de ces prospects.",
    "buys_in_store": "{v.il} achète en magasin : {share:pct} d'entre eux y passent au moins la moitié de leurs "
    "commandes.",
    "buys_online": "{v.il} achète en ligne : {share:pct} d'entre eux y passent au moins la moitié de leurs "
    "commandes.",
    "buys_by_phone": "{v.il} commande par téléphone : {share:pct} d'entre eux passent ainsi au moins la moitié "
    "de leurs commandes.",
    "repeat_buyer": "{v.il} revient : {share:pct} d'entre eux ont commandé au moins deux fois.",
    "one_order": "{v.il} n'a commandé qu'une fois pour l'instant, comme {share:pct} d'entre eux.",
    "lapsed": "{v.il} ne commande plus : {share:pct} d'entre eux n'ont rien commandé depuis 180 jours ou plus.",
    "frequent": "{v.il} achète souvent : {share:pct} d'entre eux commandent au moins tous les 45 jours.",
    "occasion_buyer": "{v.il} achète pour les grandes occasions : pour {share:pct} d'entre eux, cadeaux, fêtes "
    "et célébrations font au moins 40\u00a0% des commandes.",
    "big_basket": "{v.il} fait de gros paniers : {share:pct} d'entre eux dépensent à chaque commande au moins "
    "deux fois la commande médiane de la base.",
    "median_order_value": "Sa commande type s'élève à {value:money} (médiane), contre {base:money} pour "
    "l'ensemble des clients.",
    "discount_driven": "{v.il} attend les promotions : {share:pct} d'entre eux reçoivent en remises au moins "
    "20\u00a0% de ce qu'ils dépensent.",
    "returns_often": "{v.il} renvoie souvent ses achats : {share:pct} d'entre eux retournent au moins 15\u00a0% "
    "des articles achetés.",
    "late_payer": "{v.il} paie souvent en retard : {share:pct} d'entre eux règlent au moins 30\u00a0% de leurs "
    "commandes en retard.",
    "social_reach": "{v.il} parle de ses achats à son réseau : {share:pct} d'entre eux ont au moins 1\u202f000 "
    "abonnés.",
    "no_social": "{v.il} n'a pas de réseau social actif : {share:pct} d'entre eux ont moins de 100 abonnés ou "
    "aucun compte visible.",
    "main_motivation": Voiced(
        male="Ce qui l'attire chez nous, c'est {answer:motivation} " + RESPONDENTS + ".",
        female="Ce qui l'attire chez nous, c'est {answer:motivation} " + RESPONDENTS + ".",
        neutral="Ce qui attire {v.name} chez nous, c'est {answer:motivation} " + RESPONDENTS + ".",
    ),
    "main_barrier": Voiced(
        male="Ce qui le freine, c'est {answer:barrier} " + RESPONDENTS + ".",
        female="Ce qui la freine, c'est {answer:barrier} " + RESPONDENTS + ".",
        neutral="Ce qui freine {v.name}, c'est {answer:barrier} " + RESPONDENTS + ".",
    ),
    "main_barrier.none": Voiced(
        male="Rien de particulier ne le freine " + RESPONDENTS + ".",
        female="Rien de particulier ne la freine " + RESPONDENTS + ".",
        neutral="Rien de particulier ne freine {v.name} " + RESPONDENTS + ".",
    ),
    "discovery_channel": "{v.il} nous a connus grâce {answer:discovery} " + RESPONDENTS + ".",
    "brand_perception": "{v.il} voit {brand} comme {answer:perception} " + RESPONDENTS + ".",
    "brand_perception.unknown": "{v.il} n'a pas d'image précise de {brand} " + RESPONDENTS + ".",
    "factor": "Pour comparer les offres, {v.il_} regarde {factor:factor} : {share:pct} des {respondents:count} "
    "répondants lui donnent 4 ou 5 sur 5.",
    "no_service_need": "{v.il} achète vite et simplement : {share:pct} d'entre eux n'ont jamais sollicité le "
    "service client.",
    "high_touch": "{v.il} demande beaucoup d'accompagnement : {share:pct} d'entre eux ont ouvert au moins deux "
    "demandes au service client.",
    "costs_more_than_brings": "Pour {share:pct} d'entre eux, le service devrait coûter plus que ce qu'ils "
    "rapporteront sur les 12 prochains mois.",
    "mean_cost_to_serve_12m": Voiced(
        male="Servir ce client devrait coûter {value:money} sur les 12 prochains mois (moyenne par client), "
        "contre {base:money} pour l'ensemble des clients.",
        female="Servir cette cliente devrait coûter {value:money} sur les 12 prochains mois (moyenne par client), "
        "contre {base:money} pour l'ensemble des clients.",
        neutral="Servir {v.name} devrait coûter {value:money} sur les 12 prochains mois (moyenne par client), "
        "contre {base:money} pour l'ensemble des clients.",
    ),
    "mean_clv_12m": "Sur les 12 prochains mois, {v.il_} devrait rapporter {value:money} {basis:basis} (moyenne "
    "par client), contre {base:money} pour l'ensemble des clients.",
    # L'énoncé de positionnement (positioning.py) et sa cible.
    "positioning": "« {brand} propose {target} {category:range} ayant {features:features} qui leur offre "
    "{benefit:benefit}. »",
    "target": "aux {role:roles}{age:aged}",
    "target.loyal": "aux {role:roles}{age:aged} fidèles",
    "target.lapsed": "aux {role:roles}{age:aged} qui se sont éloignés",
    "target.channel": "aux {role:roles}{age:aged} qui achètent {channel:channel}",
    "target.loyal+channel": "aux {role:roles}{age:aged} fidèles qui achètent {channel:channel}",
    "target.lapsed+channel": "aux {role:roles}{age:aged} qui se sont éloignés et achetaient {channel:channel}",
    "target.mixture": "aux {first:roles} et aux {second:roles}{age:aged}",
}
TARGET_AGES = {"under 18": "de moins de 18 ans", "65+": "de 65 ans ou plus"}
FEATURES = {  # motivation ou facteur de décision, comme ce qu'a la gamme
    "price": "des prix justes et transparents",
    "quality": "une qualité durable",
    "brand": "une signature en laquelle ils ont confiance",
    "service": "un service attentif et personnalisé",
    "convenience": "une commande simple et rapide",
    "features": "les fonctionnalités qu'ils comparent",
    "values": "des valeurs responsables",
    "reviews": "des produits bien notés par les clients",
}


def _target_age(band: str) -> str:
    low, _, high = band.partition("-")
    return f" {TARGET_AGES.get(band, f'de {low} à {high} ans')}" if band else ""


def _range(category: str) -> str:
    """« une gamme d'articles… » / « une gamme de cafés… »."""
    return f"une gamme d'{category}" if category[:1].lower() in "aeiouyéèh" else f"une gamme de {category}"


WORDS = {
    "noun": {"male": "un homme", "female": "une femme"},
    "pronoun": {"male": "il", "female": "elle"},
    "age": _age,
    "income": {
        "lt_20k": "moins de 20 k par an",
        "20k_40k": "20 à 40 k par an",
        "40k_70k": "40 à 70 k par an",
        "70k_100k": "70 à 100 k par an",
        "gt_100k": "plus de 100 k par an",
    },
    "savvy_m": {"low": "débutant", "average": "moyen", "high": "très avisé"},
    "savvy_f": {"low": "débutante", "average": "moyenne", "high": "très avisée"},
    "savvy_level": {"low": "faible", "average": "moyen", "high": "très bon"},
    "motivation": {
        "price": "le prix",
        "quality": "la qualité",
        "brand": "la marque elle-même",
        "service": "le service",
        "convenience": "la simplicité",
        "features": "les caractéristiques des produits",
        "values": "les valeurs de la marque",
        "other": "un ensemble de raisons",
    },
    "barrier": {
        "price": "le prix",
        "missing_feature": "une fonctionnalité absente de notre gamme",
        "trust": "un manque de confiance",
        "awareness": "une connaissance incomplète de notre offre",
        "delivery": "la livraison",
        "payment": "les moyens de paiement",
        "other": "d'autres raisons",
    },
    "discovery": {  # after « grâce »
        "campaign": "à une de nos campagnes",
        "referral": "à la recommandation d'un proche",
        "search": "à une recherche en ligne",
        "social": "aux réseaux sociaux",
        "store": "à une visite en magasin",
        "press": "à la presse",
        "other": "à d'autres canaux",
    },
    "perception": {
        "reliable": "un acteur fiable",
        "innovative": "une marque novatrice",
        "leader": "un leader de son secteur",
        "average": "une marque moyenne, sans plus",
        "outdated": "une marque vieillissante",
    },
    "factor": {
        "price": "le prix",
        "brand": "l'image de marque",
        "reviews": "les avis clients",
        "features": "les caractéristiques du produit",
        "service": "le service",
    },
    "group": {  # les membres d'un groupe, par affirmation de rôle
        "occasion_buyer": "achètent surtout pour des occasions spéciales",
        "discount_driven": "reçoivent en remises au moins un cinquième de ce qu'ils dépensent",
        "big_basket": "dépensent au moins deux fois la commande type",
        "high_touch": "ont ouvert au moins deux demandes au service client",
        "late_payer": "paient en retard au moins 30\u00a0% de leurs commandes",
        "social_reach": "ont au moins 1\u202f000 abonnés",
        "frequent": "commandent au moins tous les 45 jours",
    },
    "basis": {"margin": "en marge", "revenue": "en chiffre d'affaires"},
    "roles": {  # rôles d'achat (traits.py), au pluriel
        "occasion": "acheteurs d'occasions spéciales",
        "bargain": "chasseurs de bonnes affaires",
        "big_basket": "acheteurs à gros paniers",
        "high_touch": "clients très demandeurs d'accompagnement",
        "late_payer": "clients aux paiements tardifs",
        "influencer": "influenceurs",
        "frequent": "acheteurs fréquents",
        "shopper": "clients",
        "prospect": "prospects",
    },
    "channel": {"buys_in_store": "en magasin", "buys_online": "en ligne", "buys_by_phone": "par téléphone"},
    "aged": _target_age,
    "range": _range,
    "feature": FEATURES,
    "features": lambda keys: " et ".join(FEATURES[k] for k in keys),
    "benefit": {
        "occasion": "le bon cadeau pour chaque occasion, prêt à temps",
        "bargain": "de bonnes affaires sans douter de la qualité",
        "big_basket": "des prix au volume et un interlocuteur dédié",
        "high_touch": "de l'aide et des conseils dès qu'ils en ont besoin",
        "late_payer": "des conditions de paiement adaptées à leur budget",
        "influencer": "des produits dont leur communauté aura envie d'entendre parler",
        "frequent": "des achats rapides et faciles à partager",
        "shopper": "une valeur sûre au quotidien, sans complication",
        "prospect": "un premier achat en toute simplicité",
    },
}
