"""The joint-bid group search: which groups cover a need none can deliver alone, and in what
order."""

from __future__ import annotations

from asfmatch.matching.joint_bids import Candidate, Requirement, suggest_groups
from asfmatch.matching.model import Need, SupplierProfile

LULEA, BODEN, PITEA = "2580", "2582", "2581"


def supplier(
    supplier_id: int,
    *,
    cap: int | None = 500_000,
    places: int = 0,
    area: tuple[str, ...] = (LULEA,),
    share: float = 0.5,
    joint_bids: bool = True,
) -> SupplierProfile:
    return SupplierProfile(
        id=supplier_id,
        name=f"ASF {supplier_id}",
        description="städning",
        service_area=area,
        max_contract_value_sek=cap,
        training_places=places,
        target_group_share=share,
        joint_bids=joint_bids,
    )


def need(
    *,
    value: int | None = None,
    places: int = 0,
    kommuner: tuple[str, ...] = (LULEA,),
    reserved: bool = False,
) -> Requirement:
    return Requirement(
        value_sek=value, places=places, kommuner=kommuner, whole_lan=False, reserved=reserved
    )


def candidates(*pairs: tuple[SupplierProfile, float]) -> list[Candidate]:
    return [Candidate(profile=p, score=score) for p, score in pairs]


def member_ids(groups: list) -> list[list[int]]:
    return [[m.supplier_id for m in g.members] for g in groups]


def test_two_suppliers_together_cover_a_value_neither_carries_alone() -> None:
    found = suggest_groups(
        need(value=1_500_000),
        candidates((supplier(1, cap=1_000_000), 0.6), (supplier(2, cap=800_000), 0.4)),
    )
    assert member_ids(found) == [[1, 2]]
    assert found[0].covers == ["value"]
    assert found[0].combined_value_sek == 1_800_000
    assert found[0].summary == "together 1.8 MSEK ≥ 1.5 MSEK"
    assert found[0].weakest_score == 0.4


def test_training_places_add_up_across_members() -> None:
    found = suggest_groups(
        need(places=5),
        candidates((supplier(1, places=3), 0.5), (supplier(2, places=2), 0.5)),
    )
    assert member_ids(found) == [[1, 2]]
    assert found[0].covers == ["training_places"]
    assert found[0].combined_places == 5


def test_a_joint_procurement_is_covered_by_suppliers_in_different_kommuner() -> None:
    found = suggest_groups(
        need(kommuner=(LULEA, BODEN)),
        candidates((supplier(1, area=(LULEA,)), 0.7), (supplier(2, area=(BODEN,)), 0.3)),
        kommun_names={LULEA: "Luleå", BODEN: "Boden"},
    )
    assert member_ids(found) == [[1, 2]]
    assert found[0].covers == ["kommuner"]
    assert found[0].summary == "together they serve Luleå and Boden"
    assert [m.serves for m in found[0].members] == [[LULEA], [BODEN]]


def test_no_groups_when_one_supplier_can_deliver_alone() -> None:
    assert (
        suggest_groups(
            need(value=900_000),
            candidates((supplier(1, cap=1_000_000), 0.2), (supplier(2, cap=500_000), 0.9)),
        )
        == []
    )


def test_no_groups_when_even_the_largest_together_fall_short() -> None:
    assert (
        suggest_groups(
            need(value=10_000_000),
            candidates(*((supplier(i, cap=1_000_000), 0.5) for i in range(1, 6))),
        )
        == []
    )


def test_triples_only_when_no_pair_suffices() -> None:
    three = candidates(
        (supplier(1, cap=600_000), 0.9),
        (supplier(2, cap=600_000), 0.8),
        (supplier(3, cap=600_000), 0.7),
    )
    found = suggest_groups(need(value=1_500_000), three)
    assert member_ids(found) == [[1, 2, 3]]
    # A fourth, bigger supplier makes pairs possible: then no triple is offered.
    found = suggest_groups(
        need(value=1_500_000), [*three, *candidates((supplier(4, cap=1_000_000), 0.1))]
    )
    assert found and all(len(g.members) == 2 for g in found)
    assert member_ids(found)[0] == [1, 4]


def test_groups_are_ranked_by_their_weakest_member() -> None:
    found = suggest_groups(
        need(value=1_000_000),
        candidates(
            (supplier(1, cap=600_000), 0.9),
            (supplier(2, cap=500_000), 0.8),
            (supplier(3, cap=450_000), 0.3),
        ),
    )
    assert member_ids(found) == [[1, 2], [1, 3]]
    assert [g.weakest_score for g in found] == [0.8, 0.3]
    assert [g.rank for g in found] == [1, 2]


def test_an_asf_that_opted_out_is_never_suggested() -> None:
    found = suggest_groups(
        need(value=1_000_000),
        candidates(
            (supplier(1, cap=600_000), 0.9),
            (supplier(2, cap=600_000, joint_bids=False), 0.8),
            (supplier(3, cap=600_000), 0.2),
        ),
    )
    assert member_ids(found) == [[1, 3]]


def test_reserved_needs_take_only_members_meeting_the_30_percent_rule() -> None:
    pool = candidates(
        (supplier(1, cap=600_000, share=0.5), 0.9),
        (supplier(2, cap=600_000, share=0.29), 0.8),
        (supplier(3, cap=600_000, share=0.30), 0.2),
    )
    assert member_ids(suggest_groups(need(value=1_000_000, reserved=True), pool)) == [[1, 3]]
    assert member_ids(suggest_groups(need(value=1_000_000), pool))[0] == [1, 2]


def test_members_serving_none_of_the_kommuner_are_left_out() -> None:
    found = suggest_groups(
        need(value=1_000_000, kommuner=(LULEA,)),
        candidates(
            (supplier(1, cap=600_000), 0.9),
            (supplier(2, cap=600_000, area=(PITEA,)), 0.8),
            (supplier(3, cap=600_000, area=("25",)), 0.1),
        ),
    )
    assert member_ids(found) == [[1, 3]]


def test_unknown_capacity_promises_nothing_in_a_group() -> None:
    # Alone, an unknown capacity passes the filter; a group's sum counts only known ones.
    found = suggest_groups(
        need(value=1_000_000, kommuner=(LULEA, BODEN)),
        candidates(
            (supplier(1, cap=None, area=(LULEA,)), 0.9),
            (supplier(2, cap=600_000, area=(BODEN,)), 0.8),
        ),
    )
    assert found == []


def test_min_score_and_top_k_bound_the_search() -> None:
    pool = candidates(*((supplier(i, cap=400_000), 1.0 - i / 100) for i in range(1, 41)))
    found = suggest_groups(need(value=1_000_000), pool, top_k=3, limit=10)
    assert member_ids(found) == [[1, 2, 3]]
    assert suggest_groups(need(value=1_000_000), pool, min_score=0.985) == []


def test_limit_caps_the_number_of_groups() -> None:
    pool = candidates(*((supplier(i, cap=600_000), 0.5) for i in range(1, 8)))
    found = suggest_groups(need(value=1_000_000), pool, limit=3)
    assert len(found) == 3
    assert member_ids(found) == [[1, 2], [1, 3], [2, 3]]


def test_requirement_of_a_joint_need_lists_all_its_kommuner() -> None:
    from asfmatch.matching.joint_bids import requirement_of

    joint = Need(id=1, title="t", description="", kommun=LULEA, kommuner=(LULEA, BODEN))
    assert requirement_of(joint).kommuner == (LULEA, BODEN)
    single = Need(id=2, title="t", description="", kommun=LULEA)
    assert requirement_of(single).kommuner == (LULEA,)


def test_covers_names_only_what_no_member_could_deliver_alone_but_the_sentence_states_all() -> None:
    found = suggest_groups(
        need(value=3_000_000, kommuner=(LULEA, BODEN)),
        candidates(
            (supplier(1, cap=3_000_000, area=(LULEA,)), 0.6),
            (supplier(2, cap=400_000, area=(BODEN,)), 0.5),
        ),
        kommun_names={LULEA: "Luleå", BODEN: "Boden"},
    )
    assert member_ids(found) == [[1, 2]]
    assert found[0].covers == ["kommuner"]
    assert found[0].summary == "together 3.4 MSEK ≥ 3.0 MSEK; together they serve Luleå and Boden"
    assert found[0].summary_sv == (
        "tillsammans 3,4 MSEK ≥ 3,0 MSEK; tillsammans finns ni i Luleå och Boden"
    )
