"""Recompute a persona claim from customer rows in plain Python (no Polars, no pipeline code but the
catalogue of tests), so a test can prove every sentence rests on a claim that holds."""

from __future__ import annotations

import statistics

from segmentation_pipeline.marts.personas.claims import AGE_BANDS, SHARE_CLAIMS, STATISTICS, ClaimConfig

OPS = {
    ">=": lambda x, t: x >= t,
    "<=": lambda x, t: x <= t,
    "==": lambda x, t: x == t,
    "<": lambda x, t: x < t,
}


def _age_band(age: float) -> str:
    return next((name for upper, name in AGE_BANDS if age < upper), "65+")


def recompute(rows: list[dict], segment_id: int, claim: str, base_rows: list[dict]) -> tuple[float, int]:
    """(support_share, known customers) of `claim` over the segment's customer rows."""
    seg = [r for r in rows if r["segment_id"] == segment_id]
    if claim == "size":
        return 1.0, len(seg)
    if claim.startswith("mixture:"):
        a, b = claim.removeprefix("mixture:").split("+")
        hits = [_test(r, a, base_rows) or _test(r, b, base_rows) for r in seg]
        return sum(bool(h) for h in hits) / len(seg), len(seg)
    if "=" in claim:
        column, value = claim.split("=", 1)
        values = [_age_band(r["age"]) if column == "age_band" else r.get(column) for r in seg
                  if (r.get("age") if column == "age_band" else r.get(column)) is not None]  # fmt: skip
        return sum(str(v) == value for v in values) / len(values), len(values)
    if claim in STATISTICS:
        column, aggregate = STATISTICS[claim]
        known = [float(r[column]) for r in seg if r.get(column) is not None]
        reference = [float(r[column]) for r in base_rows if r.get(column) is not None]
        agg = statistics.median if aggregate == "median" else statistics.fmean
        value, base = agg(known), agg(reference)
        side = [x > base if value > base else x < base for x in known]
        return sum(side) / len(side), len(known)
    tests = [_test(r, claim, base_rows) for r in seg]
    known = [t for t in tests if t is not None]
    return sum(known) / len(known), len(known)


def _test(row: dict, claim: str, base_rows: list[dict]) -> bool | None:
    column, op, threshold = SHARE_CLAIMS[claim]
    x = row.get(column)
    if op == "known":
        return x is not None
    if op == "unknown":
        return x is None
    if claim == "no_social" and x is None:
        x = 0
    if x is None:
        return None
    if threshold == "base_median_x2":
        threshold = 2 * statistics.median(float(r[column]) for r in base_rows if r.get(column) is not None)
    return OPS[op](float(x), threshold)


def holds(kind: str, claim: str, support: float, value: float | None, base: float | None) -> bool:
    config = ClaimConfig()
    if kind == "statistic":
        return value is not None and bool(base) and abs(value / base - 1) >= config.difference
    if kind == "size":
        return True
    needed = config.gender_support if claim.startswith("gender=") else config.support
    return support >= needed - 1e-9


def check_claims(profile: list[dict], segments, claims) -> None:
    """Each segment's narratives are exactly its claims' sentences, and every claim recomputed from
    the customers' rows (`profile`) holds with the stored support and known-customer count."""
    import polars as pl

    for s in segments.iter_rows(named=True):
        mine = claims.filter(pl.col("segment_id") == s["segment_id"])
        assert s["narrative_en"] == " ".join(mine["text_en"]), s["segment_id"]
        assert s["narrative_fr"] == " ".join(mine["text_fr"]), s["segment_id"]
    for c in claims.iter_rows(named=True):
        support, known = recompute(profile, c["segment_id"], c["claim"], profile)
        assert abs(support - c["support_share"]) < 1e-9 and known == c["known_customers"], c
        assert holds(c["kind"], c["claim"], support, c["value"], c["base_value"]), c


def check_published_claims(conn, schema: str = "") -> int:
    """`check_claims` on the marts of `conn` (`schema` "marts." on the warehouse, "" on the snapshot);
    no sentence is shared between personas. Returns the number of claims."""
    profile = conn.sql(f"SELECT * FROM {schema}customer_profile").pl().to_dicts()
    claims = conn.sql(f"SELECT * FROM {schema}segment_claims ORDER BY segment_id, sentence").pl()
    segments = conn.sql(f"SELECT segment_id, narrative_en, narrative_fr FROM {schema}segments").pl()
    check_claims(profile, segments, claims)
    for language in ("text_en", "text_fr"):
        assert claims[language].n_unique() == claims.height, language
    return claims.height
