"""A need for a whole län (a notice naming only a NUTS3 region) and who may serve it."""

from __future__ import annotations

import pytest

from asfmatch.matching.filters import eligibility, serves_lan, whole_lan_kommun
from asfmatch.matching.model import Need, SupplierProfile
from asfmatch.matching.ranking import MatchIndex


def _supplier(supplier_id: int, *area: str) -> SupplierProfile:
    return SupplierProfile(
        id=supplier_id,
        name=f"Snö {supplier_id}",
        description="Snöröjning och halkbekämpning, arbetsträning",
        cpv_codes=("90620000",),
        service_area=area,
        target_group_share=0.5,
    )


def _county_need(lan: str = "25", need_id: int = 1) -> Need:
    return Need(
        id=need_id,
        title="Snöröjning",
        description="Snöröjning vid vårdcentraler i hela länet",
        cpv_codes=("90620000",),
        kommun=whole_lan_kommun(lan),
        whole_lan=True,
    )


@pytest.mark.parametrize(
    ("area", "served"),
    [
        (("25",), True),  # the län itself
        (("2580",), True),  # one kommun in it
        (("0180", "2582"), True),  # a kommun in it among others
        (("SE",), True),  # the whole country
        (("20",), False),  # another län
        (("2081", "0180"), False),  # kommuner elsewhere only
        ((), False),
    ],
)
def test_a_whole_lan_need_is_served_by_anyone_serving_any_part_of_that_lan(
    area: tuple[str, ...], served: bool
) -> None:
    assert serves_lan(area, "25") is served
    region = next(c for c in eligibility(_county_need(), _supplier(1, *area)) if c.name == "region")
    assert region.passed is served
    assert "län 25" in region.reason


def test_whole_lan_need_carries_the_lan_code_followed_by_00() -> None:
    assert whole_lan_kommun("01") == "0100"


def test_ranking_a_whole_lan_need_finds_suppliers_in_each_of_its_kommuner() -> None:
    suppliers = [
        _supplier(1, "2580"),  # Luleå
        _supplier(2, "25"),  # Norrbotten
        _supplier(3, "SE"),
        _supplier(4, "2081"),  # Borlänge, elsewhere
        _supplier(5, "0180", "2582"),  # Stockholm and Boden
    ]
    index = MatchIndex.build(suppliers, [], {})
    found = {ranked.supplier_id for ranked in index.rank_suppliers(_county_need())}
    assert found == {1, 2, 3, 5}


def test_a_supplier_serving_one_kommun_is_offered_whole_lan_needs_of_its_lan_only() -> None:
    needs = [_county_need("25", 1), _county_need("20", 2)]
    index = MatchIndex.build([], needs, {})
    lulea = _supplier(1, "2580")
    assert [ranked.need_id for ranked in index.rank_needs(lulea)] == [1]
    both = _supplier(2, "2580", "25")
    assert [ranked.need_id for ranked in index.rank_needs(both)] == [1]
    country = _supplier(3, "SE")
    assert sorted(ranked.need_id for ranked in index.rank_needs(country)) == [1, 2]


def test_a_whole_lan_need_added_after_the_fit_is_found_like_one_built_in() -> None:
    index = MatchIndex.build([_supplier(1, "2580")], [], {})
    index.upsert_need(_county_need("25", 7))
    assert [ranked.need_id for ranked in index.rank_needs(_supplier(1, "2580"))] == [7]
