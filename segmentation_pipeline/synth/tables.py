"""Static reference data for the sample generator: names, places, catalogue, professions, comments."""

from __future__ import annotations

# French-flavoured first names (with accents, to exercise UTF-8) and their ASCII forms for e-mails.
FEMALE_FIRST = [
    "Camille", "Léa", "Manon", "Chloé", "Emma", "Inès", "Sarah", "Julie", "Océane", "Zoé",
    "Hélène", "Élodie", "Clémence", "Mathilde", "Anaïs", "Lucie", "Margaux", "Noémie", "Célia", "Amélie",
    "Sophie", "Nathalie", "Isabelle", "Françoise", "Valérie", "Aurélie", "Maëlle", "Agathe", "Jeanne", "Louise",
]  # fmt: skip
MALE_FIRST = [
    "Lucas", "Hugo", "Louis", "Gabriel", "Arthur", "Jules", "Nathan", "Théo", "Raphaël", "Noé",
    "Joe", "Thomas", "Nicolas", "Julien", "Antoine", "Jérôme", "Stéphane", "François", "Frédéric", "Sébastien",
    "Benoît", "Mathis", "Maxime", "Rémi", "Cédric", "Grégoire", "Loïc", "Yannick", "Olivier", "Pierre",
]  # fmt: skip
LAST_NAMES = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
    "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
    "Morel", "Girard", "André", "Lefebvre", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez",
    "Légaré", "Gauthier", "Chevalier", "Hébert", "Mézières", "Pelletier", "Boucher", "Lemaître", "Bélanger", "Noël",
]  # fmt: skip
EMAIL_DOMAINS = [
    "gmail.com",
    "orange.fr",
    "free.fr",
    "laposte.net",
    "hotmail.fr",
    "yahoo.fr",
    "sfr.fr",
    "outlook.fr",
]
EMAIL_DOMAIN_WEIGHTS = [0.34, 0.18, 0.12, 0.08, 0.1, 0.07, 0.05, 0.06]
BUSINESS_DOMAINS = ["atelier-durand.fr", "groupe-morel.fr", "sarl-petit.fr", "bureaux-leroy.com", "ets-girard.fr",
                    "cabinet-roux.fr", "mercier-sas.fr", "logistique-bonnet.fr", "pharmacie-noel.fr", "hotel-lambert.fr"]  # fmt: skip

# (city, region, country, weight). Mostly France, some Belgium, Switzerland, Luxembourg, Monaco, Canada.
CITIES = [
    ("Paris", "Île-de-France", "FR", 16.0),
    ("Boulogne-Billancourt", "Île-de-France", "FR", 2.0),
    ("Versailles", "Île-de-France", "FR", 1.5),
    ("Lyon", "Auvergne-Rhône-Alpes", "FR", 6.0),
    ("Grenoble", "Auvergne-Rhône-Alpes", "FR", 2.0),
    ("Clermont-Ferrand", "Auvergne-Rhône-Alpes", "FR", 1.5),
    ("Marseille", "Provence-Alpes-Côte d'Azur", "FR", 6.0),
    ("Nice", "Provence-Alpes-Côte d'Azur", "FR", 3.0),
    ("Toulouse", "Occitanie", "FR", 5.0),
    ("Montpellier", "Occitanie", "FR", 3.0),
    ("Bordeaux", "Nouvelle-Aquitaine", "FR", 4.0),
    ("Limoges", "Nouvelle-Aquitaine", "FR", 1.0),
    ("Nantes", "Pays de la Loire", "FR", 4.0),
    ("Angers", "Pays de la Loire", "FR", 1.5),
    ("Lille", "Hauts-de-France", "FR", 4.0),
    ("Amiens", "Hauts-de-France", "FR", 1.2),
    ("Strasbourg", "Grand Est", "FR", 3.0),
    ("Reims", "Grand Est", "FR", 1.5),
    ("Metz", "Grand Est", "FR", 1.2),
    ("Rennes", "Bretagne", "FR", 3.0),
    ("Brest", "Bretagne", "FR", 1.2),
    ("Rouen", "Normandie", "FR", 1.8),
    ("Caen", "Normandie", "FR", 1.3),
    ("Dijon", "Bourgogne-Franche-Comté", "FR", 1.5),
    ("Besançon", "Bourgogne-Franche-Comté", "FR", 1.2),
    ("Orléans", "Centre-Val de Loire", "FR", 1.3),
    ("Tours", "Centre-Val de Loire", "FR", 1.4),
    ("Ajaccio", "Corse", "FR", 0.5),
    ("Bruxelles", "Bruxelles-Capitale", "BE", 2.5),
    ("Liège", "Wallonie", "BE", 1.2),
    ("Namur", "Wallonie", "BE", 0.8),
    ("Genève", "Genève", "CH", 1.5),
    ("Lausanne", "Vaud", "CH", 1.2),
    ("Luxembourg", "Luxembourg", "LU", 0.8),
    ("Monaco", "Monaco", "MC", 0.3),
    ("Montréal", "Québec", "CA", 0.6),
    ("Québec", "Québec", "CA", 0.3),
]

# Product catalogue: (category, median list price in EUR, French noun used in product names).
CATEGORIES = [
    ("audio", 90.0, "Casque audio"),
    ("telephonie", 320.0, "Smartphone"),
    ("informatique", 520.0, "Ordinateur portable"),
    ("maison", 70.0, "Cafetière"),
    ("beaute", 28.0, "Crème visage"),
    ("mode", 45.0, "Sweat"),
    ("sport", 55.0, "Tapis de yoga"),
    ("jeux_video", 50.0, "Manette"),
    ("bureau", 18.0, "Ramette papier"),
    ("cadeaux", 35.0, "Coffret cadeau"),
]
# Brands: (name, price tier multiplier). Premium brands are the ones brand-loyal buyers stick to.
BRANDS = [
    ("Maison Aurèle", 1.9), ("Veloria", 1.7), ("Haussmann", 1.8), ("Lumière & Fils", 1.6), ("Orsay", 1.5),
    ("Nordvik", 1.1), ("Kelto", 1.0), ("Brioche Tech", 0.95), ("Solène", 1.05), ("Atelier 9", 1.1),
    ("Pixelle", 0.9), ("Mistral", 1.0), ("Galet", 0.85), ("Volta", 1.0), ("Cérès", 0.9),
    ("PrixMalin", 0.6), ("Eco+", 0.55), ("BonPlan", 0.6), ("Basique", 0.65), ("Stock&Co", 0.55),
]  # fmt: skip
PREMIUM_BRANDS = 5  # the first five brands above

PROFESSIONS_GENERAL = [
    "teacher", "nurse", "engineer", "sales assistant", "accountant", "craftsman", "civil servant",
    "retired", "developer", "manager", "driver", "farmer", "consultant", "pharmacist", "electrician",
    "chef", "hairdresser", "lawyer", "doctor", "marketing officer", "unemployed", "architect",
]  # fmt: skip
PROFESSIONS_JOE = ["engineer", "manager", "executive", "architect", "lawyer", "consultant", "doctor"]
PROFESSIONS_SARAH = ["student", "student", "student", "sales assistant", "intern", "waitress"]
PROFESSIONS_COMMERCIAL = [
    "buyer",
    "office manager",
    "procurement officer",
    "purchasing manager",
    "facility manager",
]

COMMENTS_POSITIVE = [
    "Très satisfait, livraison rapide.",
    "Produit conforme, je recommande.",
    "Excellent accueil en magasin.",
    "Qualité au rendez-vous, comme d'habitude.",
    "Super rapport qualité/prix !",
    "J'adore la marque, je rachèterai.",
]
COMMENTS_NEUTRAL = [
    "Correct, sans plus.",
    "Bon produit mais un peu cher.",
    "Délai de livraison un peu long.",
    "RAS.",
    "Le site pourrait être plus clair.",
]
COMMENTS_NEGATIVE = [
    "Très déçu, produit défectueux.",
    "Service client injoignable, c'est inadmissible.",
    "Remboursement toujours pas reçu après trois semaines.",
    "Colis arrivé abîmé, deuxième fois ce mois-ci.",
    "Trop cher pour la qualité proposée.",
    "On m'a renvoyé d'un service à l'autre.",
]
