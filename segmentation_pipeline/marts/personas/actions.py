"""Recommended actions (channel, message, cadence, service) as rules over a segment's numbers, the
service action read from the segment's service priority alone; and the survey insight columns.
Actions are in English."""

from __future__ import annotations

from segmentation_pipeline.contracts import enums
from segmentation_pipeline.marts.personas.config import PersonaConfig
from segmentation_pipeline.marts.personas.profiles import number
from segmentation_pipeline.marts.personas.story import ENGLISH
from segmentation_pipeline.marts.personas.traits import Traits


def recommended_actions(p: dict, t: Traits, economics: dict | None) -> dict[str, str]:
    """Channel, message, cadence and service approach, from the profile's numbers and the segment ROI."""
    followers = number(p, "social_followers", 0) or 0
    channel = {
        "store": "in store: personal advice and invitations to in-store events",
        "online": "email and app notifications",
        "phone": "outbound phone calls" + (" from a named account manager" if t.role == "big_basket" else ""),
        "mixed": "email plus in-store touchpoints",
        "none": f"retargeting through {ENGLISH.words['discovery'].get(p.get('discovery_channel') or '', 'the channel that found them')}",
    }[t.channel]
    if t.channel == "store" and t.researches_online:
        channel += ", plus online content to check before visiting (reviews, stock)"
    if (number(p, "social_known", 0) or 0) >= 0.3 and followers >= 10_000:
        channel += "; social media through an ambassador programme"
    elif (number(p, "social_known", 0) or 0) >= 0.3 and followers >= 1000:
        channel += "; shareable content on social media"

    message = {
        "occasion": "gift guides and reminders ahead of holidays and birthdays",
        "bargain": "targeted promotions and bundles, not full-price campaigns",
        "big_basket": "volume pricing, catalogue updates and re-order reminders",
        "high_touch": "how-to guides and reassurance before and after purchase",
        "late_payer": "clear payment terms and instalment options",
        "influencer": "previews and launches they can talk about",
        "frequent": "new arrivals and weekly picks",
        "shopper": {
            "quality": "craftsmanship and durability",
            "service": "the service promise",
            "price": "value for money",
        }.get(p.get("main_motivation") or "", "the range that fits their top category"),
        "prospect": "a welcome offer that answers their first question",
    }[t.role]
    if t.loyalty == "lapsed":
        message = "a win-back offer and what is new since their last order; then " + message
    pays_for_quality = p.get("main_motivation") in ("quality", "service", "brand")
    if not t.prospect and (number(p, "discount_share", 0) or 0) < 0.15 and pays_for_quality:
        message += " (avoid discount-led messages: they pay for quality and service)"
    barrier_fix = {
        "price": "answer the price barrier with value arguments or instalments",
        "missing_feature": "announce the features they miss as soon as they land",
        "trust": "build trust with reviews, guarantees and easy returns",
        "awareness": "show the full range",
        "delivery": "highlight delivery options and reliable lead times",
        "payment": "offer more payment options",
    }.get(p.get("main_barrier") or "")
    if t.survey and barrier_fix:
        message += f"; {barrier_fix}"

    cadence_days = number(p, "mean_days_between_orders")
    if t.prospect:
        cadence = "welcome sequence: 3 messages over 3 weeks, then monthly"
    elif t.loyalty == "lapsed":
        cadence = "win-back sequence: 3 messages over 6 weeks, then quarterly"
    elif t.role == "occasion" or (number(p, "occasion_share", 0) or 0) >= 0.4:
        cadence = "seasonal: 2 to 3 weeks before key occasions, quiet the rest of the year"
    elif t.loyalty == "new" or cadence_days is None:
        cadence = "onboarding: aim for a second purchase within 30 days"
    else:
        every = max(7, min(90, round(cadence_days / 2)))
        cadence = f"about every {every} days (half their {round(cadence_days)}-day buying cycle)"

    service = service_action(economics, t)
    if t.role == "late_payer" or (number(p, "late_payment_share", 0) or 0) >= 0.3:
        service += "; automated payment reminders and prepayment for large orders"
    return {"channel": channel, "message": message, "cadence": cadence, "service": service}


def _multiple(roi: float) -> str:
    return f"{roi:.1f}\u00d7".replace("-", "\u2212")


def service_action(economics: dict | None, t: Traits) -> str:
    """The service approach, read from the segment's service priority alone (segment_economics' rule).

    Levels never go up as the priority number goes down the list: top third of the ranked segments
    first in line, middle third standard, bottom third standard after the others, negative ROI
    self-care first (the ranking follows ROI, so those are the last ones).
    """
    e = economics or {}
    roi, priority, ranked = e.get("roi"), e.get("service_priority"), e.get("ranked_segments") or 0
    if roi is None or priority is None:
        if not t.service_known:
            return "no service data: cost to serve, ROI and priority unknown"
        if e.get("service_tickets"):  # tickets, so a cost: the value side (CLV) is what is missing
            return "no CLV this run: ROI unknown, no priority to rank, standard care"
        return "no ticket in this segment's history: no ROI to rank, standard care"
    why = f"service priority {priority} of {ranked}, ROI {_multiple(roi)} the expected 12-month cost to serve"
    if roi < 0:
        action = f"self-care first (FAQ, chat, order tracking): over 12 months they are expected to cost more to serve than they bring ({why})"
    elif priority <= -(-ranked // 3):
        action = f"first in line when service capacity is short: priority queue and a named advisor ({why})"
    elif priority > ranked - ranked // 3:
        action = f"standard queue, after the higher priorities; routine questions to self-care ({why})"
    else:
        action = f"standard queue, kept fast and simple ({why})"
    losing = e.get("customers_cost_exceeds_value") or 0
    if losing:
        action += (
            f"; {losing:,} customer{'s' if losing > 1 else ''} of this segment cost more to serve than "
            "their expected 12-month value (flag cost_exceeds_value_12m): review how they are served"
        )
    return action


def survey_insights(p: dict, config: PersonaConfig) -> dict[str, str | None]:
    """Survey answers of a segment as text columns (null when too few answers)."""
    if (p.get("respondents") or 0) < config.min_respondents:
        keys = (
            "top_motivations",
            "top_barriers",
            "decision_factors",
            "discovery_channels",
            "brand_perceptions",
        )
        return dict.fromkeys(keys)
    factors = sorted(
        ((c.removeprefix("importance_"), number(p, c)) for c in enums.IMPORTANCE_COLUMNS),
        key=lambda t: (-(t[1] or 0), t[0]),
    )
    return {
        "top_motivations": p.get("main_motivation_top"),
        "top_barriers": p.get("main_barrier_top"),
        "decision_factors": ", ".join(f"{f} {s:.1f}/5" for f, s in factors if s is not None) or None,
        "discovery_channels": p.get("discovery_channel_top"),
        "brand_perceptions": p.get("brand_perception_top"),
    }
