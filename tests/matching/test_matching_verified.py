"""Reserved contracts and verification: an unverified supplier is kept out of reserved needs
only when the requirement is on (the storage layer sets `verified_for_reserved`)."""

from __future__ import annotations

from asfmatch.matching.filters import eligibility, is_eligible
from asfmatch.matching.model import Need, SupplierProfile
from asfmatch.matching.ranking import MatchIndex


def supplier(supplier_id: int = 1, **changes: object) -> SupplierProfile:
    fields: dict[str, object] = {
        "id": supplier_id,
        "name": f"Glansen {supplier_id}",
        "description": "Städning och lokalvård av skolor",
        "cpv_codes": ("90910000",),
        "service_area": ("2580",),
        "target_group_share": 0.5,
    }
    fields.update(changes)
    return SupplierProfile(**fields)  # type: ignore[arg-type]


def need(**changes: object) -> Need:
    fields: dict[str, object] = {
        "id": 10,
        "title": "Lokalvård",
        "description": "Lokalvård av skolor",
        "cpv_codes": ("90919200",),
        "kommun": "2580",
        "reserved": True,
    }
    fields.update(changes)
    return Need(**fields)  # type: ignore[arg-type]


def reserved_check(n: Need, s: SupplierProfile) -> tuple[bool, str]:
    check = next(c for c in eligibility(n, s) if c.name == "reserved")
    return check.passed, check.outcome


def test_an_unverified_supplier_fails_a_reserved_need_when_verification_is_required() -> None:
    unverified = supplier(verified_for_reserved=False)
    assert reserved_check(need(), unverified) == (False, "unverified")
    assert not is_eligible(need(), unverified)


def test_a_verified_supplier_or_no_requirement_passes_as_before() -> None:
    assert reserved_check(need(), supplier()) == (True, "meets_share")


def test_an_unverified_supplier_still_takes_needs_that_are_not_reserved() -> None:
    unverified = supplier(verified_for_reserved=False)
    assert reserved_check(need(reserved=False), unverified) == (True, "not_reserved")
    assert is_eligible(need(reserved=False), unverified)


def test_a_share_below_the_minimum_is_named_as_such_whatever_the_verification() -> None:
    low = supplier(target_group_share=0.2, verified_for_reserved=False)
    assert reserved_check(need(), low) == (False, "below_share")


def test_the_index_leaves_unverified_suppliers_out_of_reserved_needs_both_ways() -> None:
    verified, unverified = supplier(1), supplier(2, verified_for_reserved=False)
    reserved, open_need = need(id=10), need(id=11, reserved=False)
    index = MatchIndex.build([verified, unverified], [reserved, open_need], {})
    assert [s.id for s in index.score_suppliers(reserved)] == [1]
    assert {s.id for s in index.score_suppliers(open_need)} == {1, 2}
    assert [n.id for n in index.score_needs(unverified)] == [11]
    assert {n.id for n in index.score_needs(verified)} == {10, 11}
    # An upsert (a verification lapsing) takes effect without a refit.
    index.upsert_supplier(supplier(1, verified_for_reserved=False))
    assert index.score_suppliers(reserved) == []
