"""Eligibility rules between a need and a supplier, each with a concrete reason."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import msgspec

from asfmatch.matching.model import Need, SupplierProfile

WHOLE_COUNTRY = "SE"
RESERVED_MIN_SHARE = 0.30
# Shares are entered as decimals (0.3) and may come back from float arithmetic as
# 0.29999999999999999; the tolerance lets exactly 30 % pass without admitting 29.99 %.
SHARE_TOLERANCE = 1e-9


class FilterCheck(msgspec.Struct, frozen=True, kw_only=True):
    """One eligibility rule applied to a pair, and why it passed or failed."""

    name: str
    passed: bool
    reason: str


def lan_of(kommun: str) -> str:
    """The län code of a kommun code (its first two digits)."""
    return kommun[:2]


def is_whole_country(area_code: str) -> bool:
    """True for the whole-country code "SE" (any case)."""
    return area_code.strip().upper() == WHOLE_COUNTRY


def serves_kommun(service_area: Sequence[str], kommun: str) -> bool:
    """True when the area lists the kommun, its län, or "SE"."""
    return _region_check(service_area, kommun).passed


def meets_reserved_share(share: float) -> bool:
    """True when a target-group share admits the supplier to reserved contracts (>= 30 %)."""
    return share + SHARE_TOLERANCE >= RESERVED_MIN_SHARE


# The checks below depend on a few plain values each, and ranked pairs repeat them (the same
# kommun, a handful of capacities and shares), so explaining a ranking reuses their
# (frozen) results instead of formatting the same reasons again.
_CACHE = 1 << 14


def _region_check(service_area: Sequence[str], kommun: str) -> FilterCheck:
    return _region_check_of(tuple(service_area), kommun)


@lru_cache(maxsize=_CACHE)
def _region_check_of(service_area: tuple[str, ...], kommun: str) -> FilterCheck:
    codes = [code.strip() for code in service_area]
    lan = lan_of(kommun)
    if kommun in codes:
        reason = f"supplier serves kommun {kommun}"
    elif lan in codes:
        reason = f"supplier serves län {lan} which contains kommun {kommun}"
    elif any(is_whole_country(code) for code in codes):
        reason = f"supplier serves the whole country (SE), which contains kommun {kommun}"
    else:
        listed = ", ".join(codes) if codes else "nothing"
        return FilterCheck(
            name="region",
            passed=False,
            reason=f"supplier serves {listed}, which includes neither kommun {kommun} "
            f"nor its län {lan}",
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
    if value is None or cap is None:
        unknown = "need value" if value is None else "supplier's max contract value"
        return FilterCheck(
            name="capacity", passed=True, reason=f"{unknown} unknown, so capacity is not limiting"
        )
    if value <= cap:
        return FilterCheck(
            name="capacity",
            passed=True,
            reason=f"need value {_sek(value)} is within supplier's max contract value {_sek(cap)}",
        )
    return FilterCheck(
        name="capacity",
        passed=False,
        reason=f"need value {_sek(value)} exceeds supplier's max contract value {_sek(cap)}",
    )


def _training_check(need: Need, supplier: SupplierProfile) -> FilterCheck:
    return _training_check_of(need.training_places, supplier.training_places)


@lru_cache(maxsize=_CACHE)
def _training_check_of(wanted: int, offered: int) -> FilterCheck:
    if wanted <= 0:
        return FilterCheck(
            name="training_places", passed=True, reason="need buys no training places"
        )
    passed = offered >= wanted
    verb = "offers" if passed else "offers only"
    return FilterCheck(
        name="training_places",
        passed=passed,
        reason=f"need buys {wanted} training places; supplier {verb} {offered}",
    )


def _reserved_check(need: Need, supplier: SupplierProfile) -> FilterCheck:
    return _reserved_check_of(need.reserved, supplier.target_group_share)


@lru_cache(maxsize=_CACHE)
def _reserved_check_of(reserved: bool, share: float) -> FilterCheck:
    if not reserved:
        return FilterCheck(name="reserved", passed=True, reason="need is not a reserved contract")
    passed = meets_reserved_share(share)
    relation = "meets" if passed else "is below"
    return FilterCheck(
        name="reserved",
        passed=passed,
        reason=f"reserved contract; supplier's target-group share {_percent(share)} {relation} "
        f"the {RESERVED_MIN_SHARE:.0%} minimum (LOU 4 kap. 18 §)",
    )


def eligibility(need: Need, supplier: SupplierProfile) -> list[FilterCheck]:
    """Every rule applied to the pair: region, capacity, training places, reserved, status."""
    return [
        _region_check(supplier.service_area, need.kommun),
        _capacity_check(need, supplier),
        _training_check(need, supplier),
        _reserved_check(need, supplier),
        _active_check(supplier.active),
        _open_check(need.status),
    ]


@lru_cache(maxsize=2)
def _active_check(active: bool) -> FilterCheck:
    return FilterCheck(
        name="supplier_active",
        passed=active,
        reason="supplier is active" if active else "supplier is inactive",
    )


@lru_cache(maxsize=64)
def _open_check(status: str) -> FilterCheck:
    return FilterCheck(
        name="need_open", passed=status == "open", reason=f"need status is {status!r}"
    )


def is_eligible(need: Need, supplier: SupplierProfile) -> bool:
    """True when every eligibility rule passes."""
    return all(check.passed for check in eligibility(need, supplier))
