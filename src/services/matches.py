"""Match lists: a need's best suppliers and a supplier's best open needs, served from the Redis
cache when it has them and from PostgreSQL when it does not (or when Redis is down)."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from asfmatch.matching.explanation import Explanation
from asfmatch.services.access import owns, require
from asfmatch.services.errors import Forbidden, NotFound
from asfmatch.storage import matches
from asfmatch.storage.cache import CachedList, MatchCache, parse_list_entry
from asfmatch.storage.db import Connection
from asfmatch.storage.list_versions import ListVersions
from asfmatch.storage.matches import MatchOwner, StoredMatch
from asfmatch.storage.organisations import Principal
from asfmatch.storage.suppliers import (
    VerificationStatus,
    supplier_of_organisation,
    verification_status,
)

# "failed": the latest ranking job gave up after its last attempt (see `asfmatch jobs`).
MatchStatus = Literal["pending", "ready", "failed"]
# A list's cache entry as parsed (None: none stored, or a fence) and Redis's clock (µs) when it
# was fetched (None: Redis unavailable).
Fetched = tuple[CachedList | None, int | None]


class SupplierMatch(msgspec.Struct, frozen=True, kw_only=True):
    """One supplier in a need's list."""

    supplier_id: int
    supplier_name: str
    score: float
    rank: int
    explanation: Explanation
    model_version: str
    # The supplier's latest verification, as its public profile shows it (None: never
    # verified); a change of it invalidates the cached list (storage.matches).
    verification: VerificationStatus | None = None


class NeedMatch(msgspec.Struct, frozen=True, kw_only=True):
    """One open need in a supplier's list."""

    need_id: int
    need_title: str
    score: float
    rank: int
    explanation: Explanation
    model_version: str


class NeedMatches(msgspec.Struct, frozen=True, kw_only=True):
    """A need's ranked suppliers; `pending` while a ranking job for it is queued or running,
    `failed` when its last ranking failed for good (what is shown is the older list)."""

    need_id: int
    status: MatchStatus
    matches: list[SupplierMatch]


class SupplierMatches(msgspec.Struct, frozen=True, kw_only=True):
    """A supplier's ranked open needs; `pending` while its ranking job is queued or running,
    `failed` when its last ranking failed for good."""

    supplier_id: int
    status: MatchStatus
    matches: list[NeedMatch]


_need_list = msgspec.json.Decoder(NeedMatches)
_encoder = msgspec.json.Encoder()


def _explanation(stored: dict[str, Any]) -> Explanation:
    """The stored JSON as the typed explanation (rows from before `outcome` decode too)."""
    return msgspec.convert(stored, Explanation)


def _verification(row: StoredMatch) -> VerificationStatus | None:
    if row.verified_by is None or row.verified_on is None or row.valid_until is None:
        return None
    return verification_status(
        row.verified_by,
        row.verified_on,
        row.valid_until,
        row.lapse_reason,
        row.verification_in_force,
    )


def _supplier_items(rows: list[StoredMatch]) -> list[SupplierMatch]:
    return [
        SupplierMatch(
            supplier_id=row.supplier_id,
            supplier_name=row.name,
            score=round(row.score, 4),
            rank=position,
            explanation=_explanation(row.explanation),
            model_version=row.model_version,
            verification=_verification(row),
        )
        for position, row in enumerate(rows, start=1)
    ]


def _need_items(rows: list[StoredMatch]) -> list[NeedMatch]:
    return [
        NeedMatch(
            need_id=row.need_id,
            need_title=row.name,
            score=round(row.score, 4),
            rank=position,
            explanation=_explanation(row.explanation),
            model_version=row.model_version,
        )
        for position, row in enumerate(rows, start=1)
    ]


async def need_matches(
    db: Connection,
    cache: MatchCache,
    size: int,
    principal: Principal | None,
    need_id: int,
    prefetched: Fetched | None = None,
    refresh_before: int | None = None,
) -> bytes:
    """A need's list as JSON: whole for its buyer and admins; a matched supplier sees only its
    own row (that it was matched and why, not who else was). `prefetched`: the list's cache
    entry and Redis's clock if the caller already fetched them (MatchCache.key), so no second
    Redis call is made; `refresh_before`: the Redis clock since which the caller's process
    trusts entries (storage.list_versions), so a current entry stamped earlier is stamped
    anew."""
    caller = require(principal, "admin", "buyer", "supplier")
    owner = await matches.need_owner(db, need_id)
    if owner is None or (owner.status == "draft" and not owns(caller, owner)):
        raise NotFound("need", need_id)
    body = await _list_body(db, cache, size, owner, "need", prefetched, refresh_before)
    if caller.role == "supplier":
        own = caller.supplier_id
        return _own_row(body, own if own is not None else await _supplier_id_of(db, caller))
    if not owns(caller, owner):
        raise Forbidden("only the need's buyer and the suppliers matched to it see its matches")
    return body


def _own_row(body: bytes, supplier_id: int | None) -> bytes:
    """A need's list cut to one supplier's own row; Forbidden if it is not in it."""
    full = _need_list.decode(body)
    mine = [item for item in full.matches if item.supplier_id == supplier_id]
    if not mine:
        raise Forbidden("only the need's buyer and the suppliers matched to it see its matches")
    return _encoder.encode(msgspec.structs.replace(full, matches=mine))


async def supplier_matches(
    db: Connection,
    cache: MatchCache,
    size: int,
    principal: Principal | None,
    supplier_id: int,
    prefetched: Fetched | None = None,
    refresh_before: int | None = None,
) -> bytes:
    """A supplier's list of open needs as JSON, for the supplier itself and admins
    (`prefetched` as for need_matches)."""
    caller = require(principal, "admin", "buyer", "supplier")
    owner = await matches.supplier_owner(db, supplier_id)
    if owner is None:
        raise NotFound("supplier", supplier_id)
    if not owns(caller, owner):
        raise Forbidden("only the supplier itself and admins see its matches")
    return await _list_body(db, cache, size, owner, "supplier", prefetched, refresh_before)


def _render_need_list(owner_id: int, status: MatchStatus, rows: list[StoredMatch]) -> bytes:
    return _encoder.encode(
        NeedMatches(need_id=owner_id, status=status, matches=_supplier_items(rows))
    )


def _render_supplier_list(owner_id: int, status: MatchStatus, rows: list[StoredMatch]) -> bytes:
    return _encoder.encode(
        SupplierMatches(supplier_id=owner_id, status=status, matches=_need_items(rows))
    )


_SIDES = {
    "need": (matches.matches_for_need, _render_need_list),
    "supplier": (matches.matches_for_supplier, _render_supplier_list),
}


async def _list_body(
    db: Connection,
    cache: MatchCache,
    size: int,
    owner: MatchOwner,
    side: Literal["need", "supplier"],
    prefetched: Fetched | None,
    refresh_before: int | None,
) -> bytes:
    """A list as JSON: the cached body for the owner's current version, else read from
    PostgreSQL and cached with who may read it. The owner was read with its ranking state in
    one statement (storage.matches.need_owner); "pending" and "failed" are versions of the list
    like any other (sql/013_list_versions.sql moves the version when a job opens or ends)."""
    load, render = _SIDES[side]
    if prefetched is None:
        entry, stamp = await cache.fetch(side, owner.id)
        found = parse_list_entry(entry)
    else:
        found, stamp = prefetched
    if found is not None and found.version == owner.match_version:
        if stamp is not None and refresh_before is not None and found.stamp < refresh_before:
            # Current, but read before this process trusts entries: stamped anew (the version
            # was just read) so that the next read needs no PostgreSQL.
            await _put(cache, side, owner, found.body, stamp)
        return found.body
    status: MatchStatus = (
        "pending" if owner.ranking_open else "failed" if owner.ranking_failed else "ready"
    )
    body = render(owner.id, status, await load(db, owner.id, size))
    if stamp is not None:
        await _put(cache, side, owner, body, stamp)
    return body


async def _put(cache: MatchCache, side: str, owner: MatchOwner, body: bytes, stamp: int) -> None:
    await cache.put(
        side,
        owner.id,
        owner.match_version,
        body,
        stamp=stamp,
        owner_organisation_id=owner.owner_organisation_id,
        status=owner.status,
    )


def cached_need_matches(
    versions: ListVersions, principal: Principal | None, need_id: int, found: CachedList | None
) -> bytes | None:
    """A need's list from its prefetched cache entry, with no PostgreSQL query, when
    `versions` trusts the entry; None to read PostgreSQL (a miss, an untrusted entry, or a
    supplier caller whose profile the key lookup did not know). Access is checked against the
    owner and status cached with the list, as need_matches checks them."""
    caller = require(principal, "admin", "buyer", "supplier")
    if (
        found is None
        or (caller.role == "supplier" and caller.supplier_id is None)
        or not versions.trusts("need", need_id, found.version, found.stamp)
    ):
        return None
    owner = _cached_owner(need_id, found)
    if owner.status == "draft" and not owns(caller, owner):
        raise NotFound("need", need_id)
    if caller.role == "supplier":
        return _own_row(found.body, caller.supplier_id)
    if not owns(caller, owner):
        raise Forbidden("only the need's buyer and the suppliers matched to it see its matches")
    return found.body


def cached_supplier_matches(
    versions: ListVersions, principal: Principal | None, supplier_id: int, found: CachedList | None
) -> bytes | None:
    """A supplier's list from its prefetched cache entry when `versions` trusts it (as
    cached_need_matches); None to read PostgreSQL."""
    caller = require(principal, "admin", "buyer", "supplier")
    if found is None or not versions.trusts("supplier", supplier_id, found.version, found.stamp):
        return None
    if not owns(caller, _cached_owner(supplier_id, found)):
        raise Forbidden("only the supplier itself and admins see its matches")
    return found.body


def _cached_owner(owner_id: int, found: CachedList) -> MatchOwner:
    return MatchOwner(
        id=owner_id,
        owner_organisation_id=found.owner_organisation_id,
        match_version=found.version,
        status=found.status,
    )


async def _supplier_id_of(db: Connection, caller: Principal) -> int | None:
    profile = await supplier_of_organisation(db, caller.organisation_id)
    return None if profile is None else profile.id
