"""Personas: names, English and French stories built from the profile, positioning, actions, segments table."""

from __future__ import annotations

import polars as pl
import pytest

from segmentation_pipeline.marts.economics.segment_economics import customer_economics, segment_economics
from segmentation_pipeline.marts.personas import personas as ps
from segmentation_pipeline.models.segmentation.clustering import explain_segments

JOE = dict(
    age=37, gender="male", web_savviness="average", share_store=0.8, share_online=0.2, share_phone=0.0,
    occasion_share=0.7, discount_share=0.05, avg_order_value=400.0, frequency=6, monetary=2400.0, margin=900.0,
    mean_days_between_orders=90.0, recency_days=30, tenure_days=500, social_followers=0, social_platforms=0,
    main_motivation="service", main_barrier="none", discovery_channel="referral", brand_perception="reliable",
    importance_service=5, importance_price=2, importance_reviews=3, importance_brand=4, importance_features=2,
    loyalty_class="high_loyalty", total_effort=2.0, service_contacts=0, cost_to_serve=10.0, late_payment_share=0.0,
    clv_12m=800.0, rfm_segment="Champions", preferred_channel="store", top_category="cadeaux",
)  # fmt: skip
SARAH = dict(
    age=19, gender="female", web_savviness="high", share_store=0.0, share_online=1.0, share_phone=0.0,
    occasion_share=0.05, discount_share=0.2, avg_order_value=30.0, frequency=12, monetary=360.0, margin=120.0,
    mean_days_between_orders=30.0, recency_days=10, tenure_days=360, social_followers=3000, social_platforms=2,
    brand_mentions_90d=12, main_motivation="features", main_barrier="delivery", discovery_channel="social",
    brand_perception="innovative", importance_reviews=5, importance_price=4, importance_service=2,
    importance_brand=3, importance_features=4, loyalty_class="high_loyalty", total_effort=0.0, service_contacts=0,
    cost_to_serve=0.0, late_payment_share=0.0, clv_12m=200.0, rfm_segment="Loyal Customers",
    preferred_channel="online", top_category="mode",
)  # fmt: skip
MICHEL = dict(
    age=64, gender="male", web_savviness="low", share_store=0.5, share_online=0.1, share_phone=0.4,
    occasion_share=0.1, discount_share=0.1, avg_order_value=80.0, frequency=3, monetary=240.0, margin=40.0,
    mean_days_between_orders=120.0, recency_days=400, tenure_days=900, social_followers=0, social_platforms=0,
    main_motivation="service", main_barrier="trust", discovery_channel="store", brand_perception="outdated",
    importance_service=5, loyalty_class="low_loyalty", total_effort=60.0, service_contacts=8, mean_effort_score=8.0,
    cost_to_serve=300.0, late_payment_share=0.35, mean_days_late=20.0, clv_12m=5.0, rfm_segment="Lost",
    preferred_channel="store", top_category="maison",
)  # fmt: skip


def make_profile(segments: dict[int, dict], per_segment: int = 10, **overrides: object) -> pl.DataFrame:
    rows = []
    for segment_id, person in segments.items():
        for i in range(per_segment):
            rows.append(
                {"customer_id": f"{segment_id}-{i:03d}", "segment_id": segment_id, **person, **overrides}
            )
    profile = pl.DataFrame(rows, infer_schema_length=None)
    # As the segments asset does: each customer's 12-month service economics beside the profile.
    return profile.join(customer_economics(profile, 2.0), on="customer_id", how="left")


def assert_says(text: str, facts: list[str]) -> None:
    """Every fact is said in the text (the failing one named)."""
    missing = [fact for fact in facts if fact not in text]
    assert not missing, (missing, text)


@pytest.fixture(scope="module")
def built() -> dict:
    profile = make_profile({1: JOE, 2: SARAH, 3: MICHEL})
    economics = segment_economics(profile)
    explanations = explain_segments(profile)
    personas = ps.build_personas_and_claims(profile, economics)[0]
    return {
        "profile": profile,
        "economics": economics,
        "explanations": explanations,
        "personas": personas,
        "by_id": {r["segment_id"]: r for r in personas.iter_rows(named=True)},
    }


# Per persona: (first name, persona name, facts its English story says, facts its French story says).
STORIES = {
    1: ("Joe", "Loyal in-store gift buyer", [
        "Joe is a man, as are 100% of the customers he stands for.", "He is 35 to 44 years old",
        "\u201caverage\u201d on the web", "He buys in store: 100% of them place at least half their orders there.",
        "He comes back", "special occasions",
        "His typical order is €400 (median), against €80 across all customers.", "no active social network",
        "What brings him to us is the service (100% of the 10 respondents).", "Nothing in particular holds him back",
        "recommendation from someone close", "he weighs service", "Maison Exemple as a reliable player",
    ], [
        "Joe est un homme, comme 100\u00a0% des clients qu'il représente.", "Il a entre 35 et 44 ans",
        "« moyen » sur le Web", "Il achète en magasin", "grandes occasions",
        "Sa commande type s'élève à 400\u00a0€ (médiane), contre 80\u00a0€", "n'a pas de réseau social actif",
        "Ce qui l'attire chez nous, c'est le service", "Rien de particulier ne le freine",
        "grâce à la recommandation d'un proche", "un acteur fiable",
    ]),
    2: ("Sarah", "Loyal online influencer", [
        "Sarah is a woman", "18 to 24 years old", "\u201cvery savvy\u201d", "She buys online: 100% of them",
        "She buys often", "Her typical order is €30 (median), against €80",
        "100% of them have 1,000 followers or more", "What holds her back is delivery", "through social media",
        "she weighs customer reviews", "an innovative brand",
    ], [
        "Sarah est une femme", "« très avisée »", "Elle achète en ligne", "au moins 1\u202f000 abonnés",
        "grâce aux réseaux sociaux", "ce sont les caractéristiques des produits", "elle regarde les avis clients",
        "une marque novatrice",
    ]),
    # High-touch, lapsed, late payer.
    3: ("Michel", "Lapsed in-store high-touch customer", [
        "have not ordered for 180 days or more", "opened two or more service tickets",
        "pay 30% or more of their orders late",
        "is expected to cost €52 over the next 12 months (mean per customer)",
        "expected to cost more than they bring over the next 12 months",
    ], ["au moins deux demandes au service client", "paie souvent en retard"]),
}  # fmt: skip


@pytest.mark.parametrize("segment_id", sorted(STORIES))
def test_a_story_tells_only_its_holding_claims(built, segment_id):
    first_name, persona_name, english, french = STORIES[segment_id]
    row = built["by_id"][segment_id]
    assert (row["first_name"], row["persona_name"]) == (first_name, persona_name)
    assert_says(row["narrative_en"], english)
    assert_says(row["narrative_fr"], french)


def test_names_unique_and_deterministic(built):
    names = built["personas"].get_column("persona_name").to_list()
    assert len(set(names)) == len(names)
    again = ps.build_personas_and_claims(built["profile"], built["economics"])[0]
    assert again.equals(built["personas"])
    # Two segments that read alike still get distinct names and first names.
    twins = ps.build_personas_and_claims(make_profile({1: JOE, 2: {**JOE, "top_category": "maison"}}))[0]
    assert twins.get_column("persona_name").n_unique() == 2
    assert twins.get_column("first_name").n_unique() == 2


def test_positioning_follows_the_template_with_configured_brand(built):
    joe = built["by_id"][1]
    assert joe["positioning_statement"] == (
        "Maison Exemple offers loyal in-store gift buyers aged 35 to 44 a range of home and lifestyle goods with "
        "attentive, personal service and a name they trust that gives them the right gift for every occasion, ready "
        "on time."
    )
    assert joe["positioning_statement_fr"] == (
        "« Maison Exemple propose aux acheteurs d'occasions spéciales de 35 à 44 ans fidèles qui achètent en magasin "
        "une gamme d'articles pour la maison et l'art de vivre ayant un service attentif et personnalisé et une "
        "signature en laquelle ils ont confiance qui leur offre le bon cadeau pour chaque occasion, prêt à temps. »"
    )
    config = ps.PersonaConfig(brand="Atelier Nord", category_en="coffees", category_fr="cafés de spécialité")
    other = ps.build_personas_and_claims(built["profile"], built["economics"], config=config)[0]
    assert other.get_column("positioning_statement").str.starts_with("Atelier Nord offers").all()
    assert other.get_column("positioning_statement").str.contains("a range of coffees with").all()
    assert (
        other.get_column("positioning_statement_fr")
        .str.contains("une gamme de cafés de spécialité ayant")
        .all()
    )
    assert other.get_column("narrative_en").str.contains("Atelier Nord").any()


def test_actions_are_derived_from_the_numbers(built):
    joe, sarah, michel = (built["by_id"][i] for i in (1, 2, 3))
    assert joe["action_channel"].startswith("in store")
    assert "seasonal" in joe["action_cadence"]
    assert "avoid discount-led" in joe["action_message"]
    assert sarah["action_channel"].startswith("email and app")
    assert "social media" in sarah["action_channel"]
    assert "about every 15 days" in sarah["action_cadence"]  # half of a 30-day cycle
    assert "win-back" in michel["action_cadence"]
    assert "self-care" in michel["action_service"]  # effort outweighs its return: negative ROI
    assert "payment reminders" in michel["action_service"]
    assert "build trust" in michel["action_message"]
    # Same segment worth more over 12 months than it costs: its ROI ranks it first, and so does its action.
    rich = make_profile({1: JOE, 2: SARAH, 3: {**MICHEL, "clv_12m": 5000.0}})
    row = ps.build_personas_and_claims(rich, segment_economics(rich))[0].row(2, named=True)
    assert "first in line" in row["action_service"] and "priority 1 of 1" in row["action_service"]
    # Joe and Sarah filed no ticket: no ROI, so no priority, and the action says so.
    assert "no ticket" in joe["action_service"]
    # Cadence follows the buying cycle.
    slow = make_profile({2: {**SARAH, "mean_days_between_orders": 100.0}})
    assert "about every 50 days" in ps.build_personas_and_claims(slow)[0].row(0, named=True)["action_cadence"]


def test_survey_and_social_absent_facts_are_left_out():
    bare = {
        k: v
        for k, v in JOE.items()
        if not k.startswith(("importance_", "main_", "discovery", "brand_p", "social"))
    }
    row = ps.build_personas_and_claims(make_profile({1: bare}))[0].row(0, named=True)
    assert "What brings" not in row["narrative_en"] and "social network" not in row["narrative_en"]
    assert "Ce qui l'attire" not in row["narrative_fr"]
    assert row["top_motivations"] is None and row["decision_factors"] is None
    assert "35 to 44 years old" in row["narrative_en"]


def test_unknown_or_balanced_gender_gives_a_neutral_persona():
    for gender in (None, "balanced"):
        person = {**JOE, "gender": None} if gender is None else JOE
        profile = make_profile({1: person})
        if gender == "balanced":  # 50/50 (and 60/40: under the 65% a gendered persona needs)
            genders = ["male", "female"] * 5 if gender == "balanced" else None
            profile = profile.with_columns(gender=pl.Series(genders))
        row = ps.build_personas_and_claims(profile)[0].row(0, named=True)
        name = row["first_name"]
        assert name in ps.SPARE_NAMES[None], name
        assert " is a man" not in row["narrative_en"] and " is a woman" not in row["narrative_en"]
        assert f"{name} considers themselves \u201caverage\u201d on the web" in row["narrative_en"]
        assert f"Nothing in particular holds {name} back" in row["narrative_en"]
        assert f"{name} juge son niveau sur le Web « moyen »" in row["narrative_fr"]
        assert f"Rien de particulier ne freine {name}" in row["narrative_fr"]
    sixty = make_profile({1: JOE}).with_columns(gender=pl.Series(["male"] * 6 + ["female"] * 4))
    assert ps.build_personas_and_claims(sixty)[0].row(0, named=True)["first_name"] in ps.SPARE_NAMES[None]
    seventy = make_profile({1: JOE}).with_columns(gender=pl.Series(["male"] * 7 + ["female"] * 3))
    assert (
        "Joe is a man, as are 70%"
        in ps.build_personas_and_claims(seventy)[0].row(0, named=True)["narrative_en"]
    )


def test_prospect_segment():
    prospect = {
        "frequency": 0,
        "age": 30,
        "gender": "female",
        "web_savviness": "high",
        "discovery_channel": "social",
        "cancel_rate": None,  # no order line at all
    }
    row = ps.build_personas_and_claims(make_profile({0: prospect}))[0].row(0, named=True)
    assert row["persona_name"] == "Prospect found through social media"
    assert "has not bought from us yet" in row["narrative_en"]
    assert "n'a encore rien acheté" in row["narrative_fr"]
    assert "welcome sequence" in row["action_cadence"]


def test_segments_table_columns(built):
    table = ps.build_segments_table(
        built["profile"], built["economics"], built["personas"], built["explanations"]
    )
    required = [
        "segment_id", "persona_name", "customers", "customer_share", "revenue_share", "avg_clv_12m",
        "narrative_en", "narrative_fr", "positioning_statement", "recommended_actions", "roi", "service_priority",
        "defining_traits", "top_motivations", "top_barriers", "decision_factors", "discovery_channels",
        "brand_perceptions", "revenue", "margin", "cost_to_serve", "clv_12m_total",
    ]  # fmt: skip
    assert table.columns[: len(required)] == required
    assert table.height == 3
    assert table.get_column("customer_share").sum() == pytest.approx(1.0)
    joe = table.filter(pl.col("segment_id") == 1).row(0, named=True)
    assert joe["top_motivations"] == "service 100%"
    assert joe["decision_factors"].startswith("service 5.0/5, brand 4.0/5")
    assert joe["discovery_channels"] == "referral 100%"
    assert joe["recommended_actions"].startswith("Channel: in store")


# --- only what the data shows (real exports: one channel, no service, another currency) ------------

SERVICE_WORDS = (
    "needs our service",
    "hand-holding",
    "service contacts",
    "accompagnement",
    "solliciter le service",
)
STORE_WORDS = ("in store", "in-store", "en magasin", "omnichannel", "channels")


def _texts(row: dict) -> str:
    return " ".join(
        str(row[c]) for c in ("persona_name", "narrative_en", "narrative_fr", "positioning_statement")
    )


def test_no_service_data_no_service_sentence():
    # The service source is absent: the features leave its columns null (not 0).
    no_service = {**JOE, "service_contacts": None, "total_effort": None, "cost_to_serve": None}
    row = ps.build_personas_and_claims(make_profile({1: no_service, 2: {**SARAH, **no_service}}))[0].row(
        0, named=True
    )
    text = row["narrative_en"] + " " + row["narrative_fr"]
    assert not any(w in text for w in SERVICE_WORDS), text
    assert "no service data" in row["action_service"]
    # With the source present and no ticket (0 contacts), the sentence holds and is written.
    assert (
        "never opened a service ticket"
        in ps.build_personas_and_claims(make_profile({2: SARAH}))[0].row(0, named=True)["narrative_en"]
    )


def test_one_channel_in_the_data_no_channel_sentence_or_name():
    # A web shop: every order online. Preferring online to store says nothing (there is no store).
    online = {"share_store": 0.0, "share_online": 1.0, "share_phone": 0.0, "preferred_channel": "online"}
    profile = make_profile({1: {**JOE, **online}, 2: {**SARAH, **online}})
    for row in ps.build_personas_and_claims(profile)[0].iter_rows(named=True):
        text = _texts(row)
        assert not any(w in text for w in STORE_WORDS) and "online" not in row["persona_name"].lower(), text
        assert "would rather not buy in store" not in text and "100% of orders" not in text


def test_money_in_the_run_currency_in_both_languages():
    config = ps.PersonaConfig(currency="GBP")
    row = ps.build_personas_and_claims(make_profile({1: JOE, 2: SARAH}), config=config)[0].row(0, named=True)
    assert "£400" in row["narrative_en"] and "400\u00a0£" in row["narrative_fr"]
    assert "€" not in _texts(row) and "euro" not in _texts(row).lower()


def test_prospects_who_returned_everything_are_not_told_as_never_bought():
    returned = {"frequency": 0, "age": 30, "gender": "female", "cancel_rate": 0.0, "return_rate": 1.0}
    row = ps.build_personas_and_claims(make_profile({0: returned}))[0].row(0, named=True)
    assert "has not bought from us yet" not in row["narrative_en"]
    assert "returned or cancelled everything" in row["narrative_en"]
    assert "a tout retourné ou annulé" in row["narrative_fr"]
