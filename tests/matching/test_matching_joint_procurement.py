"""A need naming several kommuner (a joint procurement): a supplier alone must serve them all,
in both ranking directions, and joint-bid candidates need serve only one."""

from __future__ import annotations

import pytest

from asfmatch.matching.filters import eligibility, serves_all
from asfmatch.matching.model import Need, SupplierProfile
from asfmatch.matching.ranking import MatchIndex

LULEA, BODEN, KIRUNA, STOCKHOLM = "2580", "2582", "2584", "0180"


def _supplier(supplier_id: int, *area: str, cap: int | None = None) -> SupplierProfile:
    return SupplierProfile(
        id=supplier_id,
        name=f"Städ {supplier_id}",
        description="Städning och lokalvård av skolor, arbetsträning",
        cpv_codes=("90919200",),
        service_area=area,
        target_group_share=0.5,
        max_contract_value_sek=cap,
    )


def _joint_need(*kommuner: str, need_id: int = 1, value: int | None = None) -> Need:
    return Need(
        id=need_id,
        title="Lokalvård av skolor",
        description="Städning och lokalvård av skolor",
        cpv_codes=("90919200",),
        kommun=kommuner[0],
        kommuner=kommuner,
        estimated_value_sek=value,
    )


@pytest.mark.parametrize(
    ("area", "served", "missing"),
    [
        ((LULEA, BODEN), True, None),
        (("25",), True, None),  # their län
        (("SE",), True, None),
        ((LULEA,), False, [BODEN]),
        ((LULEA, "01"), False, [BODEN]),
        ((STOCKHOLM,), False, [LULEA, BODEN]),
    ],
)
def test_a_supplier_alone_must_serve_every_kommun_of_a_joint_procurement(
    area: tuple[str, ...], served: bool, missing: list[str] | None
) -> None:
    assert serves_all(area, (LULEA, BODEN)) is served
    region = next(
        c for c in eligibility(_joint_need(LULEA, BODEN), _supplier(1, *area)) if c.name == "region"
    )
    assert region.passed is served
    assert region.outcome == ("serves_all_kommuner" if served else "misses_kommuner")
    assert region.values.missing == missing
    assert region.values.kommuner == [LULEA, BODEN]


def test_a_need_naming_one_kommun_keeps_the_single_kommun_rule() -> None:
    need = _joint_need(LULEA)
    region = next(c for c in eligibility(need, _supplier(1, LULEA)) if c.name == "region")
    assert region.outcome == "serves_kommun"


def _suppliers() -> list[SupplierProfile]:
    return [
        _supplier(1, LULEA),
        _supplier(2, BODEN),
        _supplier(3, LULEA, BODEN),  # two partitions the need sits in: found once
        _supplier(4, "25"),
        _supplier(5, "SE"),
        _supplier(6, STOCKHOLM),
        _supplier(7, LULEA, KIRUNA),
    ]


def test_ranking_a_joint_need_lists_only_suppliers_serving_all_its_kommuner_once() -> None:
    index = MatchIndex.build(_suppliers(), [], {})
    ranked = [r.supplier_id for r in index.rank_suppliers(_joint_need(LULEA, BODEN))]
    assert sorted(ranked) == [3, 4, 5]
    assert len(ranked) == len(set(ranked))


def test_a_joint_need_across_lan_asks_for_both() -> None:
    index = MatchIndex.build(_suppliers(), [], {})
    ranked = {r.supplier_id for r in index.rank_suppliers(_joint_need(LULEA, STOCKHOLM))}
    assert ranked == {5}


def test_a_supplier_is_offered_a_joint_need_only_when_it_serves_all_of_it_and_once() -> None:
    needs = [_joint_need(LULEA, BODEN, need_id=1), _joint_need(LULEA, need_id=2)]
    for build_first in (True, False):
        index = MatchIndex.build([], needs if build_first else [], {})
        if not build_first:
            for need in needs:  # added after the fit, as the worker does
                index.upsert_need(need)
        offered = {
            supplier.id: [r.need_id for r in index.rank_needs(supplier)]
            for supplier in _suppliers()
        }
        assert sorted(offered[1]) == [2]
        assert offered[2] == []
        assert sorted(offered[3]) == [1, 2]
        assert sorted(offered[4]) == [1, 2]
        assert sorted(offered[5]) == [1, 2]
        assert offered[6] == []
        assert sorted(offered[7]) == [2]


def test_partners_need_serve_one_kommun_and_their_capacity_does_not_count() -> None:
    suppliers = [
        _supplier(1, LULEA, cap=100_000),
        _supplier(2, BODEN, cap=100_000),
        _supplier(3, STOCKHOLM, cap=10_000_000),
    ]
    index = MatchIndex.build(suppliers, [], {})
    need = _joint_need(LULEA, BODEN, value=1_000_000)
    assert index.score_suppliers(need) == []
    assert sorted(item.id for item in index.score_partners(need, limit=10)) == [1, 2]
    # Scores are the ranking's own: the same pair scores the same either way.
    single = _joint_need(LULEA, value=None)
    strict = {item.id: item.score for item in index.score_suppliers(single)}
    relaxed = {item.id: item.score for item in index.score_partners(single, limit=10)}
    assert relaxed == strict == {1: strict[1]}
