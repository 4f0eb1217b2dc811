"""The advice's English reasons count in proper English: 0, 1 and 2 of each counted thing
("1 relevant ASF … can carry", "2 relevant ASFs … can each carry", "no … ASF")."""

from __future__ import annotations

import re

import pytest

from asfmatch.matching.advice import Advice, AdviceThresholds, Candidate, DraftTerms, advise


def asf(cap: int | None, n: int, places: int = 0, share: bool = True) -> list[Candidate]:
    return [
        Candidate(
            supplier_id=i,
            score=0.5,
            meets_share=share,
            max_contract_value_sek=cap,
            training_places=places,
        )
        for i in range(n)
    ]


DEFAULT = AdviceThresholds()


def text_of(advice: Advice, code: str) -> str:
    (found,) = [reason.text for reason in advice.reasons if reason.code == code]
    return found


def test_a_count_of_one_is_never_followed_by_a_plural() -> None:
    advices = [
        advise(DraftTerms(estimated_value_sek=500_000), 1, [], AdviceThresholds()),
        advise(
            DraftTerms(estimated_value_sek=500_000, reserved=True),
            5,
            asf(500_000, 1) + asf(100_000, 3),
            AdviceThresholds(),
        ),
        advise(
            DraftTerms(training_places=1),
            5,
            asf(None, 1, places=1),
            AdviceThresholds(reserve_min_suppliers=1),
        ),
        advise(DraftTerms(estimated_value_sek=100_000), 1, asf(None, 1, share=False), DEFAULT),
    ]
    for advice in advices:
        for reason in advice.reasons:
            assert not re.search(r"\b1 (\w+ )?(ASFs|training places|lots)\b", reason.text), reason


@pytest.mark.parametrize(
    ("serving", "expected"),
    [
        (1, "1 active ASF serves the place, but it does not offer what is asked."),
        (2, "2 active ASFs serve the place, but none offers what is asked."),
    ],
)
def test_none_relevant_counts_the_serving_asfs(serving: int, expected: str) -> None:
    advice = advise(DraftTerms(estimated_value_sek=1), serving, [], DEFAULT)
    assert text_of(advice, "none_relevant") == expected


@pytest.mark.parametrize(
    ("relevant", "expected"),
    [
        (1, "1 relevant ASF serves the place, but it does not have the 30 % target-group"),
        (2, "2 relevant ASFs serve the place, but none of them has the 30 % target-group"),
    ],
)
def test_none_meet_share_counts_the_relevant_asfs(relevant: int, expected: str) -> None:
    advice = advise(DraftTerms(estimated_value_sek=1), 5, asf(None, relevant, share=False), DEFAULT)
    assert text_of(advice, "none_meet_share").startswith(expected)


@pytest.mark.parametrize(
    ("carriers", "expected"),
    [
        (0, "No relevant ASF meeting the 30 % rule can carry 500 000 SEK; reserving"),
        (1, "Only 1 relevant ASF meeting the 30 % rule can carry 500 000 SEK; reserving"),
        (2, "Only 2 relevant ASFs meeting the 30 % rule can each carry 500 000 SEK; reserving"),
    ],
)
def test_too_few_for_whole_with_none_one_and_two_carriers(carriers: int, expected: str) -> None:
    relevant = asf(500_000, carriers) + asf(10_000, 1)
    advice = advise(DraftTerms(estimated_value_sek=500_000, reserved=True), 5, relevant, DEFAULT)
    assert text_of(advice, "too_few_for_whole").startswith(expected)
    flag = text_of(advice, "reserved_few_bidders")
    wanted = {
        0: "no eligible ASF can carry all of it",
        1: "only 1 eligible ASF can carry all of it",
        2: "only 2 eligible ASFs can carry all of it",
    }[carriers]
    assert wanted in flag


@pytest.mark.parametrize(
    ("carriers", "expected"),
    [
        (1, "1 relevant ASF meeting the 30 % rule can carry 1 training place (at least 1 needed)"),
        (2, "2 relevant ASFs meeting the 30 % rule can each carry 2 training places (at least 1"),
    ],
)
def test_carry_whole_counts_asfs_and_training_places(carriers: int, expected: str) -> None:
    terms = DraftTerms(training_places=carriers)
    advice = advise(
        terms, 5, asf(None, carriers, places=2), AdviceThresholds(reserve_min_suppliers=1)
    )
    assert text_of(advice, "carry_whole").startswith(expected)


def test_one_lot_left_open_is_a_lot() -> None:
    # Three lots, two reserved (3 carriers - 2 per lot + 1), one left open for the requirement.
    relevant = asf(1_000_000, 3) + asf(2_000_000, 0)
    advice = advise(DraftTerms(estimated_value_sek=3_000_000), 5, relevant, DEFAULT)
    assert advice.lots is not None
    assert (advice.lots.lots, advice.lots.reserved_lots) == (3, 2)
    assert text_of(advice, "employment_on_open_lots").startswith("The lot left open can carry")
