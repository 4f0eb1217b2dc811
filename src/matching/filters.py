"""Eligibility rules between a need and a supplier, each with a concrete reason."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

import msgspec

from asfmatch.matching.model import Need, SupplierProfile

WHOLE_COUNTRY = "SE"
RESERVED_MIN_SHARE = 0.30
# Shares are entered as decimals (0.3) and may come back from float arithmetic as
# 0.29999999999999999; the tolerance lets exactly 30 % pass without admitting 29.99 %.
SHARE_TOLERANCE = 1e-9


class FilterValues(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The facts a rule compared, so a page can word the outcome in any language."""

    kommun: str | None = None
    # A joint procurement: every kommun of the need, and those the supplier does not serve.
    kommuner: list[str] | None = None
    missing: list[str] | None = None
    lan: str | None = None
    service_area: list[str] | None = None
    need_value_sek: int | None = None
    max_contract_value_sek: int | None = None
    wanted_places: int | None = None
    offered_places: int | None = None
    target_group_share: float | None = None
    min_share: float | None = None
    status: str | None = None
    # False when reserved contracts require a verification and the supplier has none.
    verified: bool | None = None


class FilterCheck(msgspec.Struct, frozen=True, kw_only=True):
    """One eligibility rule applied to a pair: the outcome as a code with the values compared,
    and the same in an English sentence (`reason`). Lists stored before `outcome` existed
    decode with an empty outcome and fall back to `reason`."""

    name: str
    passed: bool
    reason: str
    outcome: str = ""
    values: FilterValues = msgspec.field(default_factory=FilterValues)


def lan_of(kommun: str) -> str:
    """The län code of a kommun code (its first two digits)."""
    return kommun[:2]


def is_whole_country(area_code: str) -> bool:
    """True for the whole-country code "SE" (any case)."""
    return area_code.strip().upper() == WHOLE_COUNTRY


def serves_kommun(service_area: Sequence[str], kommun: str) -> bool:
    """True when the area lists the kommun, its län, or "SE"."""
    return _region_check(service_area, kommun).passed


def serves_lan(service_area: Sequence[str], lan: str) -> bool:
    """True when the area lists the län, any kommun in it, or "SE" (a whole-län need)."""
    return _whole_lan_check(service_area, lan).passed


def whole_lan_kommun(lan: str) -> str:
    """The `kommun` value a whole-län need carries: the län code followed by "00"."""
    return f"{lan}00"


def meets_reserved_share(share: float) -> bool:
    """True when a target-group share admits the supplier to reserved contracts (>= 30 %)."""
    return share + SHARE_TOLERANCE >= RESERVED_MIN_SHARE


def admitted_to_reserved(supplier: SupplierProfile) -> bool:
    """True when the supplier may take reserved contracts: its share, and its verification
    when one is required."""
    return meets_reserved_share(supplier.target_group_share) and supplier.verified_for_reserved


# The checks below depend on a few plain values each, and ranked pairs repeat them (the same
# kommun, a handful of capacities and shares), so explaining a ranking reuses their results
# instead of formatting the same reasons again. Shared results: never mutate one.
_CACHE = 1 << 14


def _region_check(service_area: Sequence[str], kommun: str) -> FilterCheck:
    return _region_check_of(tuple(service_area), kommun)


@lru_cache(maxsize=_CACHE)
def _region_check_of(service_area: tuple[str, ...], kommun: str) -> FilterCheck:
    codes = [code.strip() for code in service_area]
    lan = lan_of(kommun)
    values = FilterValues(kommun=kommun, lan=lan, service_area=codes)
    if kommun in codes:
        outcome, reason = "serves_kommun", f"supplier serves kommun {kommun}"
    elif lan in codes:
        outcome, reason = "serves_lan", f"supplier serves län {lan} which contains kommun {kommun}"
    elif any(is_whole_country(code) for code in codes):
        outcome = "serves_country"
        reason = f"supplier serves the whole country (SE), which contains kommun {kommun}"
    else:
        listed = ", ".join(codes) if codes else "nothing"
        return FilterCheck(
            name="region",
            passed=False,
            reason=f"supplier serves {listed}, which includes neither kommun {kommun} "
            f"nor its län {lan}",
            outcome="outside_area",
            values=values,
        )
    return FilterCheck(name="region", passed=True, reason=reason, outcome=outcome, values=values)


def serves_all(service_area: Sequence[str], kommuner: Sequence[str]) -> bool:
    """True when the area serves every kommun of a (joint) need."""
    return all(serves_kommun(service_area, kommun) for kommun in kommuner)


@lru_cache(maxsize=_CACHE)
def _kommuner_check_of(service_area: tuple[str, ...], kommuner: tuple[str, ...]) -> FilterCheck:
    # A joint procurement is one contract: a supplier bidding alone must deliver everywhere.
    codes = [code.strip() for code in service_area]
    missing = [kommun for kommun in kommuner if not _region_check_of(service_area, kommun).passed]
    values = FilterValues(kommuner=list(kommuner), service_area=codes, missing=missing or None)
    named = ", ".join(kommuner)
    if not missing:
        return FilterCheck(
            name="region",
            passed=True,
            reason=f"supplier serves every kommun of the need: {named}",
            outcome="serves_all_kommuner",
            values=values,
        )
    return FilterCheck(
        name="region",
        passed=False,
        reason=f"need is for kommuner {named}; supplier does not serve {', '.join(missing)}",
        outcome="misses_kommuner",
        values=values,
    )


def _whole_lan_check(service_area: Sequence[str], lan: str) -> FilterCheck:
    # A need for a whole län is served by anyone who works somewhere in it: the buyer will take
    # offers for part of the län, and a supplier in one kommun may well travel to the next.
    codes = [code.strip() for code in service_area]
    in_lan = [code for code in codes if len(code) == 4 and lan_of(code) == lan]
    if lan in codes:
        reason = f"need is for the whole län {lan}, which the supplier serves"
    elif in_lan:
        reason = f"need is for the whole län {lan}; supplier serves kommun {in_lan[0]} in it"
    elif any(is_whole_country(code) for code in codes):
        reason = f"supplier serves the whole country (SE), which contains län {lan}"
    else:
        listed = ", ".join(codes) if codes else "nothing"
        return FilterCheck(
            name="region",
            passed=False,
            reason=f"need is for the whole län {lan}; supplier serves {listed}, "
            "none of it in that län",
        )
    return FilterCheck(name="region", passed=True, reason=reason)


def _percent(share: float) -> str:
    # Two decimals at most, so 0.295 reads "29.5%" and is not rounded up to the 30% it misses.
    return f"{round(share * 100, 2):g}%"


def _sek(value: int) -> str:
    return f"{value:,}".replace(",", " ") + " SEK"


def _capacity_check(need: Need, supplier: SupplierProfile) -> FilterCheck:
    return _capacity_check_of(need.estimated_value_sek, supplier.max_contract_value_sek)


@lru_cache(maxsize=_CACHE)
def _capacity_check_of(value: int | None, cap: int | None) -> FilterCheck:
    values = FilterValues(need_value_sek=value, max_contract_value_sek=cap)
    if value is None or cap is None:
        unknown = "need value" if value is None else "supplier's max contract value"
        return FilterCheck(
            name="capacity",
            passed=True,
            reason=f"{unknown} unknown, so capacity is not limiting",
            outcome="value_unknown" if value is None else "cap_unknown",
            values=values,
        )
    if value <= cap:
        return FilterCheck(
            name="capacity",
            passed=True,
            reason=f"need value {_sek(value)} is within supplier's max contract value {_sek(cap)}",
            outcome="within_cap",
            values=values,
        )
    return FilterCheck(
        name="capacity",
        passed=False,
        reason=f"need value {_sek(value)} exceeds supplier's max contract value {_sek(cap)}",
        outcome="exceeds_cap",
        values=values,
    )


def _training_check(need: Need, supplier: SupplierProfile) -> FilterCheck:
    return _training_check_of(need.training_places, supplier.training_places)


@lru_cache(maxsize=_CACHE)
def _training_check_of(wanted: int, offered: int) -> FilterCheck:
    values = FilterValues(wanted_places=wanted, offered_places=offered)
    if wanted <= 0:
        return FilterCheck(
            name="training_places",
            passed=True,
            reason="need buys no training places",
            outcome="none_wanted",
            values=values,
        )
    passed = offered >= wanted
    verb = "offers" if passed else "offers only"
    return FilterCheck(
        name="training_places",
        passed=passed,
        reason=f"need buys {wanted} training places; supplier {verb} {offered}",
        outcome="enough_places" if passed else "too_few_places",
        values=values,
    )


def _reserved_check(need: Need, supplier: SupplierProfile) -> FilterCheck:
    return _reserved_check_of(
        need.reserved, supplier.target_group_share, supplier.verified_for_reserved
    )


@lru_cache(maxsize=_CACHE)
def _reserved_check_of(reserved: bool, share: float, verified: bool = True) -> FilterCheck:
    values = FilterValues(target_group_share=share, min_share=RESERVED_MIN_SHARE)
    if not reserved:
        return FilterCheck(
            name="reserved",
            passed=True,
            reason="need is not a reserved contract",
            outcome="not_reserved",
            values=values,
        )
    passed = meets_reserved_share(share)
    if passed and not verified:
        return FilterCheck(
            name="reserved",
            passed=False,
            reason=f"reserved contract; supplier's target-group share {_percent(share)} meets "
            f"the {RESERVED_MIN_SHARE:.0%} minimum but no support body has verified it, and "
            "reserved contracts require a valid verification",
            outcome="unverified",
            values=msgspec.structs.replace(values, verified=False),
        )
    relation = "meets" if passed else "is below"
    return FilterCheck(
        name="reserved",
        passed=passed,
        reason=f"reserved contract; supplier's target-group share {_percent(share)} {relation} "
        f"the {RESERVED_MIN_SHARE:.0%} minimum (LOU 4 kap. 18 §)",
        outcome="meets_share" if passed else "below_share",
        values=values,
    )


def eligibility(need: Need, supplier: SupplierProfile) -> list[FilterCheck]:
    """Every rule applied to the pair: region, capacity, training places, reserved, status."""
    return list(
        _checks(
            tuple(supplier.service_area),
            need.places,
            need.whole_lan,
            need.estimated_value_sek,
            supplier.max_contract_value_sek,
            need.training_places,
            supplier.training_places,
            need.reserved,
            supplier.target_group_share,
            supplier.verified_for_reserved,
            supplier.active,
            need.status,
        )
    )


def eligibility_of_suppliers(
    need: Need, suppliers: Iterable[SupplierProfile]
) -> list[list[FilterCheck]]:
    """eligibility(need, supplier) for each supplier, the need's values read once."""
    places, whole_lan, status = need.places, need.whole_lan, need.status
    value, wanted, reserved = need.estimated_value_sek, need.training_places, need.reserved
    return [
        list(
            _checks(
                tuple(s.service_area),
                places,
                whole_lan,
                value,
                s.max_contract_value_sek,
                wanted,
                s.training_places,
                reserved,
                s.target_group_share,
                s.verified_for_reserved,
                s.active,
                status,
            )
        )
        for s in suppliers
    ]


def eligibility_of_needs(
    needs: Iterable[Need], supplier: SupplierProfile
) -> list[list[FilterCheck]]:
    """eligibility(need, supplier) for each need, the supplier's values read once."""
    area, cap, offered = (
        tuple(supplier.service_area),
        supplier.max_contract_value_sek,
        supplier.training_places,
    )
    share, verified, active = (
        supplier.target_group_share,
        supplier.verified_for_reserved,
        supplier.active,
    )
    return [
        list(
            _checks(
                area,
                n.places,
                n.whole_lan,
                n.estimated_value_sek,
                cap,
                n.training_places,
                offered,
                n.reserved,
                share,
                verified,
                active,
                n.status,
            )
        )
        for n in needs
    ]


@lru_cache(maxsize=_CACHE)
def _checks(
    service_area: tuple[str, ...],
    places: tuple[str, ...],
    whole_lan: bool,
    value: int | None,
    cap: int | None,
    wanted: int,
    offered: int,
    reserved: bool,
    share: float,
    verified: bool,
    active: bool,
    status: str,
) -> tuple[FilterCheck, ...]:
    # One cache hit per explained pair instead of six.
    if whole_lan:
        region = _whole_lan_check(service_area, lan_of(places[0]))
    elif len(places) > 1:
        region = _kommuner_check_of(service_area, places)
    else:
        region = _region_check_of(service_area, places[0])
    return (
        region,
        _capacity_check_of(value, cap),
        _training_check_of(wanted, offered),
        _reserved_check_of(reserved, share, verified),
        _active_check(active),
        _open_check(status),
    )


@lru_cache(maxsize=2)
def _active_check(active: bool) -> FilterCheck:
    return FilterCheck(
        name="supplier_active",
        passed=active,
        reason="supplier is active" if active else "supplier is inactive",
        outcome="active" if active else "inactive",
    )


@lru_cache(maxsize=64)
def _open_check(status: str) -> FilterCheck:
    return FilterCheck(
        name="need_open",
        passed=status == "open",
        reason=f"need status is {status!r}",
        outcome="open" if status == "open" else "not_open",
        values=FilterValues(status=status),
    )


def is_eligible(need: Need, supplier: SupplierProfile) -> bool:
    """True when every eligibility rule passes."""
    return all(check.passed for check in eligibility(need, supplier))


def clear_cached_checks() -> None:
    """Forget every check cached by its inputs (to time pairs as if never explained before)."""
    for cached in (
        _region_check_of,
        _kommuner_check_of,
        _capacity_check_of,
        _training_check_of,
        _reserved_check_of,
        _checks,
    ):
        cached.cache_clear()
