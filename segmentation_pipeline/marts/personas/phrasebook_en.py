"""The English phrasebook of the persona stories: one template per planned sentence (sentences.py)."""

from __future__ import annotations

LANGUAGE = "en"  # Babel's locale for money
PERCENT = "{}%"  # a whole percentage
THOUSANDS = ","  # the thousands separator of counts
PRONOUNS = {
    "he": ("He", "She", "{name}"),
    "he_": ("he", "she", "{name}"),  # inside a sentence
    "him": ("him", "her", "{name}"),
    "his": ("His", "Her", "{name}'s"),
    "his_": ("his", "her", "their"),
    "himself": ("himself", "herself", "themselves"),
}
RESPONDENTS = "({share:pct} of the {respondents:count} respondents)"
AGES = {"under 18": "under 18", "65+": "65 or over"}

SENTENCES: dict[str, str] = {
    "size": "{v.name} stands for {customers:count} customers, {share:pct} of the base.",
    "gender": "{v.name} is a {gender:noun}, as are {share:pct} of the customers {gender:pronoun} stands for.",
    "mixture": "These customers are two groups, not one: {first_share:pct} {first:group}, while "
    "{second_share:pct} {second:group}.",
    "age_band": "{v.he} is {age:age} years old, like {share:pct} of them.",
    "income_band": "{v.his} income is {income:income}, the band of {share:pct} of them.",
    "region": "{v.he} lives in {region}, like {share:pct} of them.",
    "city": "{v.he} lives in the city of {city}, like {share:pct} of them.",
    "profession": "{v.his} profession is {profession}, shared by {share:pct} of them.",
    "web_savviness": "{v.he} considers {v.himself} \u201c{savvy:savvy}\u201d on the web, as {share:pct} of them do.",
    "never_ordered": "{v.he} has not bought from us yet: {share:pct} of these prospects never placed an order.",
    "ordered_and_returned": "{v.he} has ordered from us but returned or cancelled everything so far, like "
    "{share:pct} of these prospects.",
    "buys_in_store": "{v.he} buys in store: {share:pct} of them place at least half their orders there.",
    "buys_online": "{v.he} buys online: {share:pct} of them place at least half their orders on the web.",
    "buys_by_phone": "{v.he} orders by phone: {share:pct} of them place at least half their orders that way.",
    "repeat_buyer": "{v.he} comes back: {share:pct} of them have ordered at least twice.",
    "one_order": "{v.he} has ordered once so far, like {share:pct} of them.",
    "lapsed": "{v.he} has drifted away: {share:pct} of them have not ordered for 180 days or more.",
    "frequent": "{v.he} buys often: {share:pct} of them order every 45 days or more often.",
    "occasion_buyer": "{v.he} buys for special occasions: for {share:pct} of them, gifts, holidays or "
    "celebrations make up 40% or more of their orders.",
    "big_basket": "{v.he} fills big baskets: {share:pct} of them spend twice the base's median order or more "
    "each time.",
    "median_order_value": "{v.his} typical order is {value:money} (median), against {base:money} across all "
    "customers.",
    "discount_driven": "{v.he} waits for promotions: {share:pct} of them get 20% or more of what they spend as "
    "discounts.",
    "returns_often": "{v.he} sends things back: {share:pct} of them return 15% or more of the items they buy.",
    "late_payer": "{v.he} often pays late: {share:pct} of them pay 30% or more of their orders late.",
    "social_reach": "{v.he} talks about {v.his_} purchases with a network: {share:pct} of them have 1,000 "
    "followers or more.",
    "no_social": "{v.he} has no active social network: {share:pct} of them have under 100 followers or no "
    "account we can see.",
    "main_motivation": "What brings {v.him} to us is {answer:motivation} " + RESPONDENTS + ".",
    "main_barrier": "What holds {v.him} back is {answer:barrier} " + RESPONDENTS + ".",
    "main_barrier.none": "Nothing in particular holds {v.him} back " + RESPONDENTS + ".",
    "discovery_channel": "{v.he} first heard of us through {answer:discovery} " + RESPONDENTS + ".",
    "brand_perception": "{v.he} sees {brand} as {answer:perception} " + RESPONDENTS + ".",
    "brand_perception.unknown": "{v.he} has no clear picture of {brand} " + RESPONDENTS + ".",
    "factor": "When comparing offers, {v.he_} weighs {factor:factor}: {share:pct} of the {respondents:count} "
    "respondents rate it 4 or 5 out of 5.",
    "no_service_need": "{v.he} buys without needing us: {share:pct} of them never opened a service ticket.",
    "high_touch": "{v.he} needs a fair amount of hand-holding: {share:pct} of them opened two or more service "
    "tickets.",
    "costs_more_than_brings": "For {share:pct} of them, serving them is expected to cost more than they bring "
    "over the next 12 months.",
    "mean_cost_to_serve_12m": "Serving {v.him} is expected to cost {value:money} over the next 12 months (mean "
    "per customer), against {base:money} across all customers.",
    "mean_clv_12m": "Over the next 12 months {v.he_} is expected to bring {value:money} {basis:basis} (mean per "
    "customer), against {base:money} across all customers.",
    # The positioning statement (positioning.py) and its target.
    "positioning": "{brand} offers {target} {category:range} with {features:features} that gives them "
    "{benefit:benefit}.",
    "target": "{role:roles}{age:aged}",
    "target.loyal": "loyal {role:roles}{age:aged}",
    "target.lapsed": "lapsed {role:roles}{age:aged}",
    "target.channel": "{channel:channel} {role:roles}{age:aged}",
    "target.loyal+channel": "loyal {channel:channel} {role:roles}{age:aged}",
    "target.lapsed+channel": "lapsed {channel:channel} {role:roles}{age:aged}",
    "target.mixture": "{first:roles} and {second:roles}{age:aged}",
}
FEATURES = {  # motivation or decision factor, as what the range has
    "price": "keen, transparent prices",
    "quality": "lasting quality",
    "brand": "a name they trust",
    "service": "attentive, personal service",
    "convenience": "quick, effortless ordering",
    "features": "the features they compare",
    "values": "responsible values",
    "reviews": "well-reviewed products",
}

WORDS = {
    "noun": {"male": "man", "female": "woman"},
    "pronoun": {"male": "he", "female": "she"},
    "age": lambda band: AGES.get(band, band.replace("-", " to ")),
    "income": {
        "lt_20k": "under 20k a year",
        "20k_40k": "20k to 40k a year",
        "40k_70k": "40k to 70k a year",
        "70k_100k": "70k to 100k a year",
        "gt_100k": "over 100k a year",
    },
    "savvy": {"low": "a beginner", "average": "average", "high": "very savvy"},
    "motivation": {
        "price": "a good price",
        "quality": "quality",
        "brand": "the brand itself",
        "service": "the service",
        "convenience": "convenience",
        "features": "the product features",
        "values": "what the brand stands for",
        "other": "a mix of reasons",
    },
    "barrier": {
        "price": "price",
        "missing_feature": "a feature missing from our range",
        "trust": "a lack of trust",
        "awareness": "not knowing everything we offer",
        "delivery": "delivery",
        "payment": "the payment options",
        "other": "other reasons",
    },
    "discovery": {
        "campaign": "one of our campaigns",
        "referral": "a recommendation from someone close",
        "search": "an online search",
        "social": "social media",
        "store": "a visit to one of our stores",
        "press": "the press",
        "other": "other channels",
    },
    "perception": {
        "reliable": "a reliable player",
        "innovative": "an innovative brand",
        "leader": "a leader in its field",
        "average": "an average brand, nothing special",
        "outdated": "a brand that has aged",
    },
    "factor": {
        "price": "price",
        "brand": "brand image",
        "reviews": "customer reviews",
        "features": "the product's features",
        "service": "service",
    },
    "group": {  # role claims as the members of a group
        "occasion_buyer": "buy mostly for special occasions",
        "discount_driven": "get a fifth or more of what they spend as discounts",
        "big_basket": "spend twice the typical order or more",
        "high_touch": "opened two or more service tickets",
        "late_payer": "pay 30% or more of their orders late",
        "social_reach": "have 1,000 followers or more",
        "frequent": "order every 45 days or more often",
    },
    "basis": {"margin": "in margin", "revenue": "in revenue"},
    "roles": {  # buying roles (traits.py), plural
        "occasion": "gift buyers",
        "bargain": "bargain hunters",
        "big_basket": "big-basket buyers",
        "high_touch": "high-touch customers",
        "late_payer": "late payers",
        "influencer": "influencers",
        "frequent": "frequent buyers",
        "shopper": "shoppers",
        "prospect": "prospects",
    },
    "channel": {"buys_in_store": "in-store", "buys_online": "online", "buys_by_phone": "phone-order"},
    "aged": lambda band: f" aged {AGES.get(band, band.replace('-', ' to '))}" if band else "",
    "range": lambda category: f"a range of {category}",
    "feature": FEATURES,
    "features": lambda keys: " and ".join(FEATURES[k] for k in keys),
    "benefit": {
        "occasion": "the right gift for every occasion, ready on time",
        "bargain": "good deals without doubts about quality",
        "big_basket": "volume pricing and a dedicated account service",
        "high_touch": "help and advice whenever they need it",
        "late_payer": "payment terms that fit their budget",
        "influencer": "products their community will want to hear about",
        "frequent": "quick, easy buys they can share",
        "shopper": "everyday value without hassle",
        "prospect": "an easy first purchase",
    },
}
