"""The advice rules against a table of cases, at and around every threshold (defaults: reserve
with 3 carriers, lots with 2 per lot, at most 10 lots, employment requirement from 1 MSEK)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from asfmatch.matching.advice import (
    AdviceThresholds,
    Candidate,
    DraftTerms,
    LotPlan,
    advise,
    can_carry,
    split_evenly,
)
from asfmatch.services.potential import thresholds_of
from asfmatch.storage.settings import Settings, SettingsError

DEFAULTS = AdviceThresholds()


def asf(cap: int | None, places: int = 0, *, share: bool = True, n: int = 1) -> list[Candidate]:
    """n relevant ASFs with the same capacity."""
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


@dataclass
class Case:
    value: int | None
    relevant: list[Candidate]
    code: str
    reasons: list[str]
    places: int = 0
    serving: int = 10
    reserved: bool = False
    lots: LotPlan | None = None
    thresholds: AdviceThresholds = field(default_factory=AdviceThresholds)


CASES = {
    "exactly three carry the whole value: reserve": Case(
        value=500_000,
        relevant=asf(500_000) + asf(600_000) + asf(1_000_000),
        code="reserve_contract",
        reasons=["carry_whole"],
    ),
    "two carry it, a third is 1 SEK short: lots of half": Case(
        value=500_000,
        relevant=asf(500_000, n=2) + asf(499_999),
        code="reserve_lots",
        reasons=["too_few_for_whole", "lots_carriers"],
        lots=LotPlan(
            lots=2, lot_value_sek=250_000, lot_training_places=0, carriers=3, reserved_lots=2
        ),
    ),
    "no supplier serves the place, small value": Case(
        value=500_000,
        relevant=[],
        serving=0,
        code="none",
        reasons=["no_supplier_serves_place", "value_below_employment"],
    ),
    "none relevant, large value: employment requirement": Case(
        value=2_000_000,
        relevant=[],
        serving=5,
        code="employment_requirement",
        reasons=["none_relevant", "employment_value"],
    ),
    "relevant but none at 30 %, value exactly at the employment threshold": Case(
        value=1_000_000,
        relevant=asf(5_000_000, share=False, n=4),
        code="employment_requirement",
        reasons=["none_meet_share", "employment_value"],
    ),
    "relevant but none at 30 %, 1 SEK under the employment threshold": Case(
        value=999_999,
        relevant=asf(5_000_000, share=False, n=4),
        code="none",
        reasons=["none_meet_share", "value_below_employment"],
    ),
    "no value, three eligible: reserve, capacities not compared": Case(
        value=None,
        relevant=asf(100_000, n=3),
        code="reserve_contract",
        reasons=["carry_whole", "value_unknown"],
    ),
    "no value, two eligible: nothing to split, nothing to require": Case(
        value=None,
        relevant=asf(100_000, n=2),
        code="none",
        reasons=["too_few_for_whole", "value_unknown"],
    ),
    "training places exactly offered by three: reserve": Case(
        value=None,
        places=10,
        relevant=asf(None, 12) + asf(None, 10, n=2) + asf(None, 9),
        code="reserve_contract",
        reasons=["carry_whole", "value_unknown"],
    ),
    "training places nobody offers alone: two lots of five places": Case(
        value=None,
        places=10,
        relevant=asf(None, 6) + asf(None, 5, n=2) + asf(None, 4),
        code="reserve_lots",
        reasons=["too_few_for_whole", "lots_carriers", "value_unknown"],
        lots=LotPlan(
            lots=2, lot_value_sek=None, lot_training_places=5, carriers=3, reserved_lots=2
        ),
    ),
    "unknown capacities carry no known value": Case(
        value=500_000,
        relevant=asf(None, 5, n=3),
        code="none",
        reasons=["too_few_for_whole", "no_lot_split", "value_below_employment"],
    ),
    "ten lots at the most: exactly ten": Case(
        value=1_000_000,
        relevant=asf(100_000, n=2),
        code="reserve_lots",
        reasons=["too_few_for_whole", "lots_carriers", "employment_on_open_lots"],
        lots=LotPlan(
            lots=10, lot_value_sek=100_000, lot_training_places=0, carriers=2, reserved_lots=1
        ),
    ),
    "eleven lots would be needed: employment requirement instead": Case(
        value=1_000_000,
        relevant=asf(99_999, n=5),
        code="employment_requirement",
        reasons=["too_few_for_whole", "no_lot_split", "employment_value"],
    ),
    "lots rounded up: 1 000 001 SEK in two lots of 500 001": Case(
        value=1_000_001,
        relevant=asf(500_001, n=2) + asf(500_000, n=5),
        code="reserve_lots",
        reasons=["too_few_for_whole", "lots_carriers", "employment_on_open_lots"],
        lots=LotPlan(
            lots=2, lot_value_sek=500_001, lot_training_places=0, carriers=2, reserved_lots=1
        ),
    ),
    "one reserved lot of three; the open two take an employment requirement": Case(
        value=3_000_000,
        relevant=asf(1_000_000, n=2),
        code="reserve_lots",
        reasons=["too_few_for_whole", "lots_carriers", "employment_on_open_lots"],
        lots=LotPlan(
            lots=3, lot_value_sek=1_000_000, lot_training_places=0, carriers=2, reserved_lots=1
        ),
    ),
    "marked reserved with too few carriers: warned": Case(
        value=400_000,
        relevant=asf(400_000),
        reserved=True,
        code="none",
        reasons=[
            "too_few_for_whole",
            "no_lot_split",
            "reserved_few_bidders",
            "value_below_employment",
        ],
    ),
    "a lower reserve threshold (setting) reserves with one carrier": Case(
        value=400_000,
        relevant=asf(400_000),
        code="reserve_contract",
        reasons=["carry_whole"],
        thresholds=AdviceThresholds(reserve_min_suppliers=1),
    ),
    "value and places both limit a lot": Case(
        value=2_000_000,
        places=8,
        relevant=asf(1_000_000, 3, n=5) + asf(1_000_000, 4, n=2),
        code="reserve_lots",
        reasons=["too_few_for_whole", "lots_carriers", "employment_on_open_lots"],
        lots=LotPlan(
            lots=2, lot_value_sek=1_000_000, lot_training_places=4, carriers=2, reserved_lots=1
        ),
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_advice_table(case: Case) -> None:
    terms = DraftTerms(
        estimated_value_sek=case.value, training_places=case.places, reserved=case.reserved
    )
    advice = advise(terms, case.serving, case.relevant, case.thresholds)
    assert advice.code == case.code
    assert [reason.code for reason in advice.reasons] == case.reasons
    assert advice.lots == case.lots
    assert all(reason.text for reason in advice.reasons)


def test_the_reasons_carry_the_numbers_they_speak_of() -> None:
    advice = advise(
        DraftTerms(estimated_value_sek=3_000_000),
        7,
        asf(1_000_000, n=2) + asf(3_000_000, share=False),
        DEFAULTS,
    )
    first, lots = advice.reasons[0], advice.reasons[1]
    assert first.params == {"carriers": 0, "min": 3, "places": 0, "value_sek": 3_000_000}
    assert "No relevant ASF meeting" in first.text and "3 000 000 SEK" in first.text
    assert lots.params["lot_value_sek"] == 1_000_000
    assert "Split into 3 lots of 1 000 000 SEK" in lots.text


def test_capacities_summarise_only_those_meeting_the_share() -> None:
    relevant = (
        asf(2_000_000, 4)
        + asf(900_000, 6)
        + asf(None, 10)
        + asf(9_000_000, 50, share=False)
        + asf(100_000, n=5)
    )
    summary = advise(DraftTerms(estimated_value_sek=800_000), 20, relevant, DEFAULTS).capacities
    assert summary.largest_contract_values_sek == [
        2_000_000,
        900_000,
        100_000,
        100_000,
        100_000,
    ]
    assert summary.unknown_contract_value == 1
    assert summary.max_training_places == 10
    assert summary.total_training_places == 20
    assert summary.can_carry_whole == 2


@pytest.mark.parametrize(
    ("cap", "places", "value", "wanted", "expected"),
    [
        (500_000, 0, 500_000, 0, True),
        (499_999, 0, 500_000, 0, False),
        (None, 0, 500_000, 0, False),
        (None, 3, None, 3, True),
        (100, 2, None, 3, False),
        (100, 0, None, 0, True),
    ],
)
def test_can_carry_at_the_edges(
    cap: int | None, places: int, value: int | None, wanted: int, expected: bool
) -> None:
    assert can_carry(asf(cap, places)[0], value, wanted) is expected


def test_the_thresholds_come_from_the_environment_with_documented_defaults() -> None:
    defaults = Settings.from_env({})
    assert thresholds_of(defaults) == AdviceThresholds()
    assert defaults.potential_min_score == 0.15
    changed = Settings.from_env(
        {
            "ASFMATCH_POTENTIAL_MIN_SCORE": "0.3",
            "ASFMATCH_ADVICE_RESERVE_MIN_SUPPLIERS": "5",
            "ASFMATCH_ADVICE_LOT_MIN_SUPPLIERS": "3",
            "ASFMATCH_ADVICE_MAX_LOTS": "4",
            "ASFMATCH_ADVICE_EMPLOYMENT_MIN_VALUE_SEK": "2000000",
        }
    )
    assert changed.potential_min_score == 0.3
    assert thresholds_of(changed) == AdviceThresholds(
        reserve_min_suppliers=5, lot_min_suppliers=3, max_lots=4, employment_min_value_sek=2_000_000
    )
    # Zero would reserve with nobody able to bid.
    with pytest.raises(SettingsError, match="ASFMATCH_ADVICE_RESERVE_MIN_SUPPLIERS"):
        Settings.from_env({"ASFMATCH_ADVICE_RESERVE_MIN_SUPPLIERS": "0"})


@pytest.mark.parametrize(
    ("total", "parts", "shares"),
    [
        (1_000_000, 3, [333_334, 333_333, 333_333]),
        (10, 2, [5, 5]),
        (2, 5, [1, 1, 0, 0, 0]),
        (0, 3, [0, 0, 0]),
        (7, 1, [7]),
    ],
)
def test_an_even_split_adds_up_and_no_share_exceeds_the_advised_lot_size(
    total: int, parts: int, shares: list[int]
) -> None:
    assert split_evenly(total, parts) == shares
    assert sum(shares) == total
    assert max(shares) == -(-total // parts)


def test_splitting_into_no_parts_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        split_evenly(10, 0)
