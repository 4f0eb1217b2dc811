"""A supplier's answers as a signal for its notifications: repeated "wrong service" for a kind
of need (a CPV group) lowers similar needs, fading with time (docs/trust.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

import msgspec

from asfmatch.matching.cpv import normalise_codes

# CPV groups (three digits: 909 cleaning, 555 catering, 452 construction works) are the kind of
# need: a division (two digits) lumps cleaning with refuse collection, a class splits office
# cleaning from window cleaning, which one "wrong service" answer should not separate.
GROUP_DIGITS = 3


class PastAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """One answer of a supplier: the answered need's CPV codes, when, and whether it said
    "wrong service" (True) or "interested" (False)."""

    cpv_codes: tuple[str, ...]
    answered_at: datetime
    wrong_service: bool


class PenaltyRule(msgspec.Struct, frozen=True, kw_only=True):
    """When and how much a need is lowered (the ASFMATCH_WRONG_SERVICE_* settings)."""

    repeat: float = 1.5
    factor: float = 0.5
    half_life_days: float = 90.0
    strong_score: float = 0.5


def cpv_groups(codes: Iterable[str]) -> frozenset[str]:
    """The CPV groups of some codes (with or without check digits)."""
    return frozenset(code[:GROUP_DIGITS] for code in normalise_codes(tuple(codes)))


def group_weights(
    answers: Iterable[PastAnswer], now: datetime, half_life_days: float
) -> dict[str, float]:
    """Per CPV group: decayed "wrong service" answers minus decayed "interested" answers (an
    answer's weight halves every `half_life_days`). Interest in a group cancels declines."""
    weights: dict[str, float] = {}
    for answer in answers:
        age_days = max(0.0, (now - answer.answered_at).total_seconds() / 86400)
        weight = 0.5 ** (age_days / half_life_days) if half_life_days > 0 else 1.0
        signed = weight if answer.wrong_service else -weight
        for group in cpv_groups(answer.cpv_codes):
            weights[group] = weights.get(group, 0.0) + signed
    return weights


def notify_score(
    score: float, need_codes: Iterable[str], weights: Mapping[str, float], rule: PenaltyRule
) -> float:
    """The score a need is judged by when deciding whether to tell this supplier: lowered by
    `rule.factor` when the supplier repeatedly said "wrong service" to every CPV group of the
    need; never for a strong match or a need without codes."""
    if score >= rule.strong_score or not weights:
        return score
    groups = cpv_groups(need_codes)
    if not groups or any(weights.get(group, 0.0) < rule.repeat for group in groups):
        return score
    return score * rule.factor
