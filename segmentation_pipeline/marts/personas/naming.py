"""A persona's name (words only from holding claims, in English) and first name (the articles' Joe and
Sarah for their look-alikes, else a spare name of the persona's gender, or a neutral one)."""

from __future__ import annotations

import zlib

from segmentation_pipeline.marts.personas.claims import ROLE_OF_CLAIM, ClaimRow
from segmentation_pipeline.marts.personas.story import ENGLISH
from segmentation_pipeline.marts.personas.traits import Traits

ROLE_NAMES = {  # role: English singular (the plural is the phrasebook's "roles")
    "occasion": "gift buyer",
    "bargain": "bargain hunter",
    "big_basket": "big-basket buyer",
    "high_touch": "high-touch customer",
    "late_payer": "late payer",
    "influencer": "influencer",
    # Frequency is the trait; basket size is said in the story only when it is below the base's.
    "frequent": "frequent buyer",
    "shopper": "shopper",
    "prospect": "prospect",
}
FIRST_NAMES = {  # role: (male, female); the articles' Joe and Sarah go to their look-alikes
    "occasion": ("Joe", "Claire"),
    "frequent": ("Lucas", "Emma"),
    "bargain": ("Karim", "Nathalie"),
    "high_touch": ("Michel", "Monique"),
    "late_payer": ("Julien", "Laura"),
    "influencer": ("Hugo", "Sarah"),
    "big_basket": ("Marc", "Isabelle"),
    "shopper": ("Thomas", "Camille"),
    "prospect": ("Léo", "Zoé"),
}
SPARE_NAMES = {
    "male": ["Antoine", "Pierre", "Nicolas", "Paul", "Mehdi", "Louis", "Olivier", "Yann"],
    "female": ["Emma", "Léa", "Chloé", "Julie", "Sophie", "Manon", "Amélie", "Lucie"],
    None: ["Alex", "Sacha", "Charlie", "Dominique", "Claude", "Maxime", "Morgan", "Eden"],
}


def first_name(t: Traits, name: str, used: set[str]) -> str:
    male, female = FIRST_NAMES[t.role]
    preferred = {"male": male, "female": female}.get(t.gender or "")
    if preferred and preferred not in used:
        return preferred
    pool = SPARE_NAMES[t.gender]  # type: ignore[index]
    start = zlib.crc32(name.encode()) % len(pool)
    for i in range(len(pool)):
        candidate = pool[(start + i) % len(pool)]
        if candidate not in used:
            return candidate
    return f"{pool[start]} {len(used)}"


NAME_LOYALTY = {"lapsed": "Lapsed", "repeat_buyer": "Loyal", "one_order": "One-order"}
NAME_CHANNEL = {"buys_in_store": "in-store", "buys_online": "online", "buys_by_phone": "phone-order"}


def persona_name_from_claims(t: Traits, claims: list[ClaimRow]) -> str:
    """Words only from holding claims: e.g. 'Loyal in-store gift buyer', 'Two groups: gift buyers and
    bargain hunters', 'Prospect who returned everything'."""
    held = {c.claim for c in claims}
    if t.prospect:
        if "ordered_and_returned" in held:
            return "Prospect who returned everything"
        discovery = next((c.split("=")[1] for c in held if c.startswith("discovery_channel=")), None)
        return f"Prospect found through {ENGLISH.word('discovery', discovery)}" if discovery else "Prospect"
    mixture = next((c for c in held if c.startswith("mixture:")), None)
    if mixture:
        a, b = (ROLE_OF_CLAIM[k] for k in mixture.removeprefix("mixture:").split("+"))
        return f"Two groups: {ENGLISH.word('roles', a)} and {ENGLISH.word('roles', b)}"
    words = [
        next((w for k, w in NAME_LOYALTY.items() if k in held), ""),
        next((w for k, w in NAME_CHANNEL.items() if k in held), ""),
        ROLE_NAMES[t.role],
    ]
    name = " ".join(w for w in words if w)
    return name[0].upper() + name[1:]


def unique_name(t: Traits, name: str, names: set[str], segment_id: int) -> str:
    """`name`, or when another segment has it (two segments read alike) the name with the second most
    telling role, else with the segment id."""
    if name not in names:
        return name
    extra = ROLE_NAMES[t.second_role] if t.second_role else None
    return (
        f"{name} ({extra})"
        if extra and f"{name} ({extra})" not in names
        else f"{name} (segment {segment_id})"
    )
