"""Eligibility rules at their boundaries, with the reasons people will read."""

from __future__ import annotations

import pytest

from asfmatch.matching.filters import (
    RESERVED_MIN_SHARE,
    FilterCheck,
    eligibility,
    eligibility_of_needs,
    eligibility_of_suppliers,
    is_eligible,
    serves_kommun,
)
from asfmatch.matching.model import Need, SupplierProfile


def supplier(**changes: object) -> SupplierProfile:
    fields: dict[str, object] = {
        "id": 1,
        "name": "Glansen ek. för.",
        "description": "Städning",
        "service_area": ("2580",),
        "target_group_share": 0.5,
        "max_contract_value_sek": 500_000,
        "training_places": 4,
    }
    fields.update(changes)
    return SupplierProfile(**fields)  # type: ignore[arg-type]


def need(**changes: object) -> Need:
    fields: dict[str, object] = {
        "id": 10,
        "title": "Lokalvård",
        "description": "Lokalvård av skolor",
        "kommun": "2580",
        "estimated_value_sek": 400_000,
    }
    fields.update(changes)
    return Need(**fields)  # type: ignore[arg-type]


def check(name: str, checks: list[FilterCheck]) -> FilterCheck:
    return next(c for c in checks if c.name == name)


def test_reserved_share_minimum_is_thirty_percent() -> None:
    assert RESERVED_MIN_SHARE == 0.30


@pytest.mark.parametrize("share", [0.30, 0.3, 0.1 + 0.2, 0.7 - 0.4, 1 - 0.7, 0.31, 1.0])
def test_reserved_need_admits_share_exactly_thirty_percent(share: float) -> None:
    assert is_eligible(need(reserved=True), supplier(target_group_share=share))


@pytest.mark.parametrize("share", [0.29, 0.2999, 0.0])
def test_reserved_need_rejects_share_below_thirty_percent(share: float) -> None:
    result = check("reserved", eligibility(need(reserved=True), supplier(target_group_share=share)))
    assert not result.passed
    assert "below the 30% minimum" in result.reason


def test_unreserved_need_admits_any_share() -> None:
    assert is_eligible(need(reserved=False), supplier(target_group_share=0.0))


def test_need_value_equal_to_capacity_passes() -> None:
    assert is_eligible(need(estimated_value_sek=500_000), supplier(max_contract_value_sek=500_000))


def test_need_value_one_krona_over_capacity_fails() -> None:
    checks = eligibility(
        need(estimated_value_sek=500_001), supplier(max_contract_value_sek=500_000)
    )
    result = check("capacity", checks)
    assert not result.passed
    assert result.reason == (
        "need value 500 001 SEK exceeds supplier's max contract value 500 000 SEK"
    )


def test_unknown_need_value_passes_capacity() -> None:
    assert is_eligible(need(estimated_value_sek=None), supplier(max_contract_value_sek=1))


def test_unknown_supplier_capacity_passes_capacity() -> None:
    result = check(
        "capacity",
        eligibility(need(estimated_value_sek=10**9), supplier(max_contract_value_sek=None)),
    )
    assert result.passed
    assert "unknown" in result.reason


def test_lan_level_area_serves_kommun_in_that_lan() -> None:
    assert serves_kommun(["25"], "2580")
    result = check("region", eligibility(need(kommun="2580"), supplier(service_area=("25",))))
    assert result.reason == "supplier serves län 25 which contains kommun 2580"


def test_lan_level_area_does_not_serve_other_lan() -> None:
    assert not serves_kommun(["25"], "2480")


@pytest.mark.parametrize("code", ["SE", "se", " SE "])
def test_whole_country_area_serves_any_kommun(code: str) -> None:
    assert serves_kommun([code], "0180")
    assert serves_kommun([code], "2584")


def test_kommun_area_does_not_serve_neighbouring_kommun() -> None:
    assert serves_kommun(["0180"], "0180")
    assert not serves_kommun(["0180"], "0181")
    result = check("region", eligibility(need(kommun="0181"), supplier(service_area=("0180",))))
    assert not result.passed
    assert result.reason == (
        "supplier serves 0180, which includes neither kommun 0181 nor its län 01"
    )


def test_empty_service_area_serves_nothing() -> None:
    assert not serves_kommun([], "0180")


def test_training_places_equal_to_need_pass() -> None:
    assert is_eligible(need(training_places=4), supplier(training_places=4))


def test_fewer_training_places_than_needed_fail() -> None:
    result = check(
        "training_places", eligibility(need(training_places=5), supplier(training_places=4))
    )
    assert not result.passed
    assert result.reason == "need buys 5 training places; supplier offers only 4"


def test_need_without_training_places_admits_supplier_without_any() -> None:
    assert is_eligible(need(training_places=0), supplier(training_places=0))


def test_inactive_supplier_is_not_eligible() -> None:
    result = check("supplier_active", eligibility(need(), supplier(active=False)))
    assert not result.passed
    assert not is_eligible(need(), supplier(active=False))


def test_closed_need_is_not_eligible() -> None:
    assert not is_eligible(need(status="closed"), supplier())


def test_eligibility_lists_every_rule_once_with_a_reason() -> None:
    checks = eligibility(need(), supplier())
    assert [c.name for c in checks] == [
        "region",
        "capacity",
        "training_places",
        "reserved",
        "supplier_active",
        "need_open",
    ]
    assert all(c.passed and c.reason for c in checks)


def test_eligibility_of_several_suppliers_or_needs_equals_each_pairs() -> None:
    suppliers = [
        supplier(),
        supplier(id=2, service_area=("25",), max_contract_value_sek=None),
        supplier(id=3, target_group_share=0.2, active=False, training_places=1),
    ]
    needs = [need(), need(id=11, reserved=True, training_places=2), need(id=12, kommun="0180")]
    for n in needs:
        assert eligibility_of_suppliers(n, suppliers) == [eligibility(n, s) for s in suppliers]
    for s in suppliers:
        assert eligibility_of_needs(needs, s) == [eligibility(n, s) for n in needs]
