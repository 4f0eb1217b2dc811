"""Who may do what: roles, and ownership of organisations, needs, suppliers and match lists."""

from __future__ import annotations

from asfmatch.services.errors import Forbidden, Unauthenticated
from asfmatch.storage.matches import MatchOwner
from asfmatch.storage.needs import Need
from asfmatch.storage.organisations import Principal


def require(principal: Principal | None, *roles: str) -> Principal:
    """The principal if it has one of `roles`; Unauthenticated when anonymous, Forbidden when
    the role is wrong."""
    if principal is None:
        raise Unauthenticated("this needs an API key (Authorization: Bearer …)")
    if principal.role not in roles:
        raise Forbidden(f"a {principal.role} key may not do this")
    return principal


def may_manage(principal: Principal, organisation_id: int) -> None:
    """Admins manage every organisation; others only their own."""
    if principal.role != "admin" and principal.organisation_id != organisation_id:
        raise Forbidden("you may only manage your own organisation")


def may_write_need(principal: Principal | None, need: Need) -> bool:
    """Its buyer and admins may change a need (and see it while it is a draft)."""
    return principal is not None and (
        principal.role == "admin" or principal.organisation_id == need.buyer_id
    )


def owns(principal: Principal, owner: MatchOwner) -> bool:
    """Admins and the organisation behind a match list's need or supplier."""
    return principal.role == "admin" or principal.organisation_id == owner.owner_organisation_id


def sees_private_profile(principal: Principal | None, organisation_id: int) -> bool:
    """A supplier's contact e-mail shows to the supplier itself and to admins."""
    return principal is not None and (
        principal.role == "admin" or principal.organisation_id == organisation_id
    )
