"""The report's own words, one phrasebook per language with the same keys (the stories come in both
languages from marts.segments). The sections after the persona cards are in English in both reports."""

from __future__ import annotations

WORDS: dict[str, dict[str, object]] = {
    "en": {
        "title": "Customer segments and personas", "date": "Analysis date", "customers": "customers",
        "segments": "segments", "revenue": "revenue to date (all history to {date})", "personas": "Personas",
        "segment": "segment", "of_revenue": "of revenue to date", "roi": "service ROI, next 12 months",
        "priority": "service priority", "none": "none", "clv": "mean CLV, next 12 months",
        "positioning": "Positioning.", "traits": "Defining traits", "actions": "Recommended actions",
        "survey": "Survey ({n} respondents)", "evidence": "Evidence: every sentence and the claim behind it",
        "sentence": "sentence", "holds": "holds for", "value": "segment", "base": "all customers",
        "other": "Version française",
        "motivations": "Motivations", "barriers": "Barriers", "factors": "Decision factors (mean importance, 1-5)",
        "discovery": "Found us through", "perception": "Sees the brand as",
        "sizes_title": "Segments: size and value", "k_title": "Choice of the number of segments",
        "rfm_title": "RFM grid", "clv_title": "CLV distribution", "profiles_title": "Segment profiles",
        "migrations_title": "Migrations",
        "shares": ("share of customers", "share of revenue"),
        "size_headers": ["segment", "persona", "customers", "revenue to date", "expected value, next 12 months",
                         "expected cost to serve, next 12 months", "service ROI, 12 months (×)", "service priority",
                         "customers costing more than they bring"],
        "size_rule": "Over the next 12 months, on the {basis} basis: expected value = Σ clv_12m; expected cost to "
        "serve = tickets per year (own history, at least a year of it) × mean effort score × cost per effort point; "
        "service ROI = (value − cost) / cost, a multiple of the cost (— when the segment filed no ticket or has no "
        "CLV). Service priority 1 is served first: segments in ROI order, nothing else.",
        "no_service": "No service data: cost to serve, ROI and service priority are unknown (—).",
        "basis": {"margin": "margin", "revenue": "revenue"},
        # The header's note: what the money and P(alive) rest on (persona_report._basis_note).
        "basis_note": {
            "money": "Money in {currency}.",
            "margin": "Value is margin (unit costs known for every counted order).",
            "revenue": "Value is revenue: unit costs are not known for every counted order, so margin, ROI and CLV "
            "are on revenue.",
            "basis_unknown": "The value basis (margin or revenue) is not recorded for these segments.",
            "no_customers": "No customer yet: with no counted order, neither the value basis (margin or revenue) "
            "nor P(alive) is known.",
            "model": "P(alive) comes from the purchase model.",
            "model_without_dropout": "The purchase model found no dropout: P(alive) is ~1 by construction and says "
            "nothing about who is still active (read days_overdue in the profile instead).",
            "unknown": "No P(alive): the CLV model was not fitted this run.",
        },
    },
    "fr": {
        "title": "Segments clients et personas", "date": "Date d'analyse", "customers": "clients",
        "segments": "segments", "revenue": "chiffre d'affaires à date (tout l'historique jusqu'au {date})",
        "personas": "Personas", "segment": "segment", "of_revenue": "du chiffre d'affaires à date",
        "roi": "ROI du service, 12 prochains mois", "priority": "priorité de service", "none": "aucune",
        "clv": "CLV moyenne, 12 prochains mois", "positioning": "Positionnement.", "traits": "Traits distinctifs",
        "actions": "Actions recommandées (en anglais)", "survey": "Enquête ({n} répondants)",
        "evidence": "Preuves : chaque phrase et l'affirmation qui la fonde", "sentence": "phrase",
        "holds": "vraie pour", "value": "segment", "base": "tous les clients", "other": "English version",
        "motivations": "Motivations", "barriers": "Freins",
        "factors": "Facteurs de décision (importance moyenne, 1-5)", "discovery": "Nous a connus par",
        "perception": "Perçoit la marque comme",
        "sizes_title": "Segments : taille et valeur", "k_title": "Choix du nombre de segments",
        "rfm_title": "Grille RFM", "clv_title": "Distribution de la CLV (12 prochains mois)",
        "profiles_title": "Profils des segments", "migrations_title": "Migrations",
        "shares": ("part des clients", "part du chiffre d'affaires"),
        "size_headers": ["segment", "persona", "clients", "chiffre d'affaires à date",
                         "valeur attendue, 12 prochains mois", "coût de service attendu, 12 prochains mois",
                         "ROI du service, 12 mois (×)", "priorité de service",
                         "clients qui coûtent plus qu'ils ne rapportent"],
        "size_rule": "Sur les 12 prochains mois, en {basis} : valeur attendue = Σ clv_12m ; coût de service attendu "
        "= demandes par an (historique du client, au moins un an) × effort moyen × coût par point d'effort ; ROI du "
        "service = (valeur − coût) / coût, un multiple du coût (— sans demande au service client ni CLV). La "
        "priorité 1 est servie d'abord : les segments dans l'ordre de leur ROI, rien d'autre.",
        "no_service": "Aucune donnée de service : coût de service, ROI et priorité inconnus (—).",
        "basis": {"margin": "marge", "revenue": "chiffre d'affaires"},
        "basis_note": {
            "money": "Montants en {currency}.",
            "margin": "La valeur est la marge (coûts unitaires connus pour chaque commande comptée).",
            "revenue": "La valeur est le chiffre d'affaires : les coûts unitaires ne sont pas connus pour chaque "
            "commande comptée, donc marge, ROI et CLV sont calculés sur le chiffre d'affaires.",
            "basis_unknown": "La base de valeur (marge ou chiffre d'affaires) n'est pas indiquée pour ces segments.",
            "no_customers": "Aucun client pour l'instant : sans commande comptée, ni la base de valeur (marge ou "
            "chiffre d'affaires) ni la P(alive) ne sont connues.",
            "model": "La P(alive) vient du modèle d'achat.",
            "model_without_dropout": "Le modèle d'achat n'a trouvé aucun abandon : la P(alive) vaut ~1 par "
            "construction et ne dit rien de qui est encore actif (voir plutôt days_overdue dans le profil).",
            "unknown": "Pas de P(alive) : le modèle de CLV n'a pas été ajusté lors de cette exécution.",
        },
    },
}  # fmt: skip
