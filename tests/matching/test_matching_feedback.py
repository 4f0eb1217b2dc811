"""Repeated "wrong service" answers lower similar needs in a supplier's notifications: only
when repeated, only for needs whose every CPV group was declined, fading with time, cancelled
by interest, and never for a strong match."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from asfmatch.matching.feedback import (
    PastAnswer,
    PenaltyRule,
    cpv_groups,
    group_weights,
    notify_score,
)

NOW = datetime(2026, 6, 1, tzinfo=UTC)
RULE = PenaltyRule(repeat=1.5, factor=0.5, half_life_days=90.0, strong_score=0.5)
REFUSE = ("90511000-2",)  # refuse collection, group 905
CLEANING = ("90919200",)  # office cleaning, group 909


def declined(codes: tuple[str, ...], days_ago: float = 0.0) -> PastAnswer:
    return PastAnswer(
        cpv_codes=codes, answered_at=NOW - timedelta(days=days_ago), wrong_service=True
    )


def interested(codes: tuple[str, ...], days_ago: float = 0.0) -> PastAnswer:
    return PastAnswer(
        cpv_codes=codes, answered_at=NOW - timedelta(days=days_ago), wrong_service=False
    )


def judged(score: float, codes: tuple[str, ...], answers: list[PastAnswer]) -> float:
    return notify_score(score, codes, group_weights(answers, NOW, RULE.half_life_days), RULE)


def test_groups_are_three_digits_with_or_without_check_digits() -> None:
    assert cpv_groups(["90511000-2", "90919200", "junk"]) == {"905", "909"}


def test_one_wrong_service_answer_lowers_nothing() -> None:
    assert judged(0.3, REFUSE, [declined(REFUSE)]) == 0.3


def test_two_recent_wrong_service_answers_halve_a_similar_need() -> None:
    assert judged(0.3, REFUSE, [declined(REFUSE), declined(REFUSE, 3)]) == 0.15


def test_other_kinds_of_need_are_untouched() -> None:
    assert judged(0.3, CLEANING, [declined(REFUSE), declined(REFUSE)]) == 0.3


def test_a_need_that_also_asks_for_an_undeclined_group_is_untouched() -> None:
    assert judged(0.3, REFUSE + CLEANING, [declined(REFUSE), declined(REFUSE)]) == 0.3


def test_a_strong_match_is_never_lowered() -> None:
    assert judged(0.5, REFUSE, [declined(REFUSE)] * 5) == 0.5
    assert judged(0.49, REFUSE, [declined(REFUSE)] * 5) == 0.245


def test_needs_without_codes_are_never_lowered() -> None:
    assert judged(0.3, (), [declined(REFUSE)] * 5) == 0.3


def test_old_answers_fade_with_the_half_life() -> None:
    # Two answers 90 days old weigh one: no longer "repeated".
    assert judged(0.3, REFUSE, [declined(REFUSE, 90), declined(REFUSE, 90)]) == 0.3
    # Three recent-ish ones still do.
    assert judged(0.3, REFUSE, [declined(REFUSE, 10)] * 3) == 0.15


def test_interest_in_the_group_cancels_declines() -> None:
    answers = [declined(REFUSE), declined(REFUSE), interested(REFUSE)]
    assert judged(0.3, REFUSE, answers) == 0.3
