"""Stored match results, and the bookkeeping that keeps their cache keys honest.

Lock order. Every transaction that writes match rows or bumps a list's `match_version` takes
its row locks in ONE order, so an edit and a ranking can never wait on each other in a circle:

    1. needs rows, ascending id       (lock_needs)
    2. supplier_profiles rows, ascending id   (lock_suppliers)
    3. only then matches rows

A match row (n, s) is written only by a transaction holding both n and s, so once a
transaction holds an owner, the set of that owner's pairs cannot change under it. Need-side
work (an edit of a need, a need's ranking, deadline closing) locks the need(s) first and then
the suppliers of their pairs: `lock_need_side`. Supplier-side work locks the needs of the
supplier's pairs, then the supplier: `lock_supplier_side`; a pair added between its unlocked
first look and the supplier's lock has its need locked last (rare: if that closes a circle,
PostgreSQL reports a deadlock and the caller's transaction is retried, see api/retry.py and
workers/ranking.py). Locks are FOR NO KEY UPDATE, which match inserts (FOR KEY SHARE on both
parents) do not wait for.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import msgspec

from asfmatch.storage.db import Connection
from asfmatch.storage.events import COUNTS, need_topic, wake_pages
from asfmatch.storage.jobs import RANK_NEED, RANK_SUPPLIER


class StoredMatch(msgspec.Struct, frozen=True, kw_only=True):
    """One scored need–supplier pair as stored by the worker."""

    need_id: int
    supplier_id: int
    # The other side's display name: the supplier's name in a need's list, the need's title in a
    # supplier's list.
    name: str
    score: float
    explanation: dict[str, Any]
    model_version: str
    computed_at: datetime
    # A need's list only: the supplier's latest verification (storage.suppliers reads it the
    # same way for profiles), so the buyer sees which ASFs a support body has checked.
    verified_by: str | None = None
    verified_on: date | None = None
    valid_until: date | None = None
    lapse_reason: str | None = None
    verification_in_force: bool = False


class MatchOwner(msgspec.Struct, frozen=True, kw_only=True):
    """What a match-list read needs to know about its owner before touching the cache."""

    id: int
    # None for a need imported from a notice whose buyer has no account yet.
    owner_organisation_id: int | None
    match_version: int
    status: str
    # A ranking job for the list is queued or running (the list is "pending").
    ranking_open: bool = False
    # The latest ranking job failed for good (the list is "failed").
    ranking_failed: bool = False


# Both job questions in the owner's own statement: one round trip. The first is answered by the
# partial index jobs_entity_open, the second by the newest job of the entity (jobs are few per
# entity; retention prunes finished ones).
_RANKING_STATE = """
    EXISTS (SELECT 1 FROM jobs WHERE kind = $2 AND entity_id = $1
            AND state IN ('queued', 'running')) AS ranking_open,
    coalesce((SELECT state = 'failed' FROM jobs WHERE kind = $2 AND entity_id = $1
              ORDER BY id DESC LIMIT 1), false) AS ranking_failed
"""


async def need_owner(connection: Connection, need_id: int) -> MatchOwner | None:
    """The need's buyer, list version, status and ranking state, or None if there is no such
    need."""
    row = await connection.fetchrow(
        f"""
        SELECT id, buyer_id AS owner_organisation_id, match_version, status, {_RANKING_STATE}
        FROM needs WHERE id = $1
        """,
        need_id,
        RANK_NEED,
    )
    return None if row is None else MatchOwner(**dict(row))


async def supplier_owner(connection: Connection, supplier_id: int) -> MatchOwner | None:
    """The supplier's organisation, list version, state and ranking state, or None if there is
    no such profile."""
    row = await connection.fetchrow(
        f"""
        SELECT id, organisation_id AS owner_organisation_id, match_version,
               CASE WHEN active THEN 'active' ELSE 'inactive' END AS status, {_RANKING_STATE}
        FROM supplier_profiles WHERE id = $1
        """,
        supplier_id,
        RANK_SUPPLIER,
    )
    return None if row is None else MatchOwner(**dict(row))


async def matches_for_need(connection: Connection, need_id: int, limit: int) -> list[StoredMatch]:
    """The need's best suppliers, best first (ties by id, so the order is stable)."""
    rows = await connection.fetch(
        """
        SELECT m.need_id, m.supplier_id, o.name, m.score, m.explanation, m.model_version,
               m.computed_at, lv.verified_by, lv.verified_on, lv.valid_until, lv.lapse_reason,
               coalesce(lv.id = s.verification_id, false) AS verification_in_force
        FROM matches m
        JOIN supplier_profiles s ON s.id = m.supplier_id
        JOIN organisations o ON o.id = s.organisation_id
        LEFT JOIN LATERAL (
            SELECT v.id, vo.name AS verified_by, v.verified_on, v.valid_until, v.lapse_reason
            FROM supplier_verifications v JOIN organisations vo ON vo.id = v.verified_by
            WHERE v.supplier_id = s.id ORDER BY v.id DESC LIMIT 1
        ) lv ON true
        WHERE m.need_id = $1 ORDER BY m.score DESC, m.supplier_id LIMIT $2
        """,
        need_id,
        limit,
    )
    return [StoredMatch(**dict(row)) for row in rows]


async def matches_for_supplier(
    connection: Connection, supplier_id: int, limit: int
) -> list[StoredMatch]:
    """The supplier's best open needs, best first."""
    rows = await connection.fetch(
        """
        SELECT m.need_id, m.supplier_id, n.title AS name, m.score, m.explanation,
               m.model_version, m.computed_at
        FROM matches m JOIN needs n ON n.id = m.need_id
        WHERE m.supplier_id = $1 AND n.status = 'open'
        ORDER BY m.score DESC, m.need_id LIMIT $2
        """,
        supplier_id,
        limit,
    )
    return [StoredMatch(**dict(row)) for row in rows]


async def lock_needs(connection: Connection, need_ids: Iterable[int]) -> dict[int, str]:
    """Lock these needs in ascending id order (step 1 of the lock order); their statuses."""
    rows = await connection.fetch(
        "SELECT id, status FROM needs WHERE id = ANY($1::bigint[]) ORDER BY id FOR NO KEY UPDATE",
        sorted(set(need_ids)),
    )
    return {row["id"]: row["status"] for row in rows}


async def lock_suppliers(connection: Connection, supplier_ids: Iterable[int]) -> dict[int, bool]:
    """Lock these suppliers in ascending id order (step 2 of the lock order); whether each is
    active."""
    rows = await connection.fetch(
        """
        SELECT id, active FROM supplier_profiles WHERE id = ANY($1::bigint[])
        ORDER BY id FOR NO KEY UPDATE
        """,
        sorted(set(supplier_ids)),
    )
    return {row["id"]: row["active"] for row in rows}


async def _suppliers_paired_with(connection: Connection, need_ids: Sequence[int]) -> set[int]:
    rows = await connection.fetch(
        "SELECT DISTINCT supplier_id FROM matches WHERE need_id = ANY($1::bigint[])",
        list(need_ids),
    )
    return {row["supplier_id"] for row in rows}


async def _needs_paired_with(connection: Connection, supplier_ids: Sequence[int]) -> set[int]:
    rows = await connection.fetch(
        "SELECT need_id FROM matches WHERE supplier_id = ANY($1::bigint[])", list(supplier_ids)
    )
    return {row["need_id"] for row in rows}


class NeedSideLocks(msgspec.Struct, frozen=True, kw_only=True):
    """What a need-side transaction holds: the needs' statuses, the suppliers' active flags."""

    statuses: dict[int, str]
    active: dict[int, bool]


async def lock_need_side(
    connection: Connection, need_ids: Sequence[int], supplier_ids: Iterable[int] = ()
) -> NeedSideLocks:
    """Lock the needs, then every supplier paired with them plus `supplier_ids`."""
    statuses = await lock_needs(connection, need_ids)
    paired = await _suppliers_paired_with(connection, list(statuses))
    active = await lock_suppliers(connection, paired | set(supplier_ids))
    return NeedSideLocks(statuses=statuses, active=active)


class SupplierSideLocks(msgspec.Struct, frozen=True, kw_only=True):
    """What a supplier-side transaction holds: the supplier (None if gone), the needs."""

    active: bool | None
    statuses: dict[int, str]


async def lock_supplier_side(
    connection: Connection, supplier_id: int, need_ids: Iterable[int] = ()
) -> SupplierSideLocks:
    """Lock the needs paired with the supplier plus `need_ids`, then the supplier."""
    statuses, active = await _lock_supplier_sides(connection, [supplier_id], need_ids)
    return SupplierSideLocks(active=active.get(supplier_id), statuses=statuses)


async def lock_supplier_sides(connection: Connection, supplier_ids: Sequence[int]) -> None:
    """lock_supplier_side for several suppliers at once: every one of their needs, then all of
    them (one supplier after another would lock a need after a supplier)."""
    await _lock_supplier_sides(connection, supplier_ids, ())


async def _lock_supplier_sides(
    connection: Connection, supplier_ids: Sequence[int], need_ids: Iterable[int]
) -> tuple[dict[int, str], dict[int, bool]]:
    wanted = await _needs_paired_with(connection, supplier_ids) | set(need_ids)
    statuses = await lock_needs(connection, wanted)
    active = await lock_suppliers(connection, supplier_ids)
    late = await _needs_paired_with(connection, supplier_ids) - wanted
    if late:
        statuses |= await lock_needs(connection, late)
    return statuses, active


async def active_suppliers(connection: Connection, supplier_ids: Sequence[int]) -> set[int]:
    """Which of these suppliers are active (an unlocked first look)."""
    rows = await connection.fetch(
        "SELECT id FROM supplier_profiles WHERE id = ANY($1::bigint[]) AND active",
        list(supplier_ids),
    )
    return {row["id"] for row in rows}


async def open_needs(connection: Connection, need_ids: Sequence[int]) -> set[int]:
    """Which of these needs are open (an unlocked first look)."""
    rows = await connection.fetch(
        "SELECT id FROM needs WHERE id = ANY($1::bigint[]) AND status = 'open'", list(need_ids)
    )
    return {row["id"] for row in rows}


async def stale_owners(connection: Connection) -> tuple[list[int], list[int]]:
    """Needs no longer open and suppliers no longer active that still have stored pairs."""
    needs = await connection.fetch(
        """
        SELECT DISTINCT m.need_id AS id FROM matches m JOIN needs n ON n.id = m.need_id
        WHERE n.status <> 'open' ORDER BY 1
        """
    )
    suppliers = await connection.fetch(
        """
        SELECT DISTINCT m.supplier_id AS id FROM matches m
        JOIN supplier_profiles s ON s.id = m.supplier_id
        WHERE NOT s.active ORDER BY 1
        """
    )
    return [row["id"] for row in needs], [row["id"] for row in suppliers]


async def forget_need(connection: Connection, need_id: int) -> list[int]:
    """Drop a need's stored pairs (its content changed or it closed); bump every list it was on.

    Returns the suppliers whose lists lost it (ascending), so their lists can be refilled."""
    return await forget_needs(connection, [need_id])


async def forget_needs(connection: Connection, need_ids: Sequence[int]) -> list[int]:
    """`forget_need` for several needs at once, locking all of them before any supplier."""
    if not need_ids:
        return []
    await lock_need_side(connection, need_ids)
    suppliers = await connection.fetch(
        "DELETE FROM matches WHERE need_id = ANY($1::bigint[]) RETURNING supplier_id",
        list(need_ids),
    )
    supplier_ids = sorted({row["supplier_id"] for row in suppliers})
    await bump_needs(connection, need_ids)
    await bump_suppliers(connection, supplier_ids)
    return supplier_ids


async def forget_supplier(connection: Connection, supplier_id: int) -> list[int]:
    """Drop a supplier's stored pairs; bump every list it was on. Returns the needs affected
    (ascending)."""
    await lock_supplier_side(connection, supplier_id)
    needs = await connection.fetch(
        "DELETE FROM matches WHERE supplier_id = $1 RETURNING need_id", supplier_id
    )
    need_ids = sorted({row["need_id"] for row in needs})
    await connection.execute(
        "UPDATE supplier_profiles SET match_version = match_version + 1 WHERE id = $1", supplier_id
    )
    await bump_needs(connection, need_ids)
    return need_ids


async def bump_lists_showing(connection: Connection, supplier_ids: Sequence[int]) -> None:
    """Invalidate the cached lists of the needs that show these suppliers: something every
    reader of those lists sees about them (a verification, a name) changed without a
    re-ranking. The caller holds the supplier sides' locks (lock_supplier_sides)."""
    rows = await connection.fetch(
        """
        SELECT DISTINCT need_id FROM matches
        WHERE supplier_id = ANY($1::bigint[]) AND in_need_list
        """,
        list(supplier_ids),
    )
    await bump_needs(connection, [row["need_id"] for row in rows])


async def bump_needs(connection: Connection, need_ids: Sequence[int]) -> None:
    """Invalidate the cached lists of these needs (and tell open pages, after commit)."""
    if need_ids:
        await connection.execute(
            "UPDATE needs SET match_version = match_version + 1 WHERE id = ANY($1::bigint[])",
            sorted(need_ids),
        )
        await wake_pages(connection, [COUNTS, *(need_topic(need_id) for need_id in need_ids)])


async def bump_suppliers(connection: Connection, supplier_ids: Sequence[int]) -> None:
    """Invalidate the cached lists of these suppliers (the public counts may have moved)."""
    if supplier_ids:
        await connection.execute(
            """
            UPDATE supplier_profiles SET match_version = match_version + 1
            WHERE id = ANY($1::bigint[])
            """,
            sorted(supplier_ids),
        )
        await wake_pages(connection, [COUNTS])


class ScoredPair(msgspec.Struct, frozen=True, kw_only=True):
    """A pair the worker scored, ready to store."""

    need_id: int
    supplier_id: int
    score: float
    explanation: dict[str, Any]


async def list_floors(
    connection: Connection, side: str, owner_ids: Sequence[int], size: int, exclude: int
) -> dict[int, float]:
    """For each need (side "need") or supplier (side "supplier") in `owner_ids`: the score a
    newcomer must beat to enter its list of `size`, ignoring pairs with `exclude`. 0 when the
    list is not full."""
    owner, other, flag = _side(side)
    # One index range scan per owner, stopped after `size` rows: the cost follows the lists
    # asked about, not the size of the matches table (a window over all rows grew with it).
    rows = await connection.fetch(
        f"""
        SELECT o.owner_id, top.floor, top.n
        FROM unnest($1::bigint[]) AS o (owner_id)
        CROSS JOIN LATERAL (
            SELECT min(score) AS floor, count(*) AS n FROM (
                SELECT score FROM matches
                WHERE {owner} = o.owner_id AND {flag} AND {other} <> $3
                ORDER BY score DESC LIMIT $2
            ) kept
        ) top
        """,
        list(owner_ids),
        size,
        exclude,
    )
    return {row["owner_id"]: float(row["floor"]) for row in rows if row["n"] >= size}


def _side(side: str) -> tuple[str, str, str]:
    if side == "need":
        return "need_id", "supplier_id", "in_need_list"
    if side == "supplier":
        return "supplier_id", "need_id", "in_supplier_list"
    raise ValueError(side)


async def store_list(
    connection: Connection,
    side: str,
    owner_id: int,
    own_list: Sequence[ScoredPair],
    entering_other_lists: Sequence[ScoredPair],
    model_version: str,
) -> None:
    """Replace one owner's list, add the owner to the other side's lists it now enters, and
    bump the cache version of every list that changed."""
    owner, other, flag = _side(side)
    other_flag = "in_supplier_list" if flag == "in_need_list" else "in_need_list"
    before = await connection.fetch(
        f"SELECT {other} AS id FROM matches WHERE {owner} = $1 AND {flag}",
        owner_id,
    )
    await connection.execute(
        f"UPDATE matches SET {flag} = false WHERE {owner} = $1",
        owner_id,
    )
    columns = "need_id, supplier_id, score, explanation, model_version"
    for pairs, column in ((own_list, flag), (entering_other_lists, other_flag)):
        if not pairs:
            continue
        await connection.executemany(
            f"""
            INSERT INTO matches ({columns}, {column}) VALUES ($1, $2, $3, $4, $5, true)
            ON CONFLICT (need_id, supplier_id) DO UPDATE
            SET score = excluded.score, explanation = excluded.explanation,
                model_version = excluded.model_version, {column} = true, computed_at = now()
            """,
            [(p.need_id, p.supplier_id, p.score, p.explanation, model_version) for p in pairs],
        )
    await connection.execute(
        f"DELETE FROM matches WHERE {owner} = $1 AND NOT in_need_list AND NOT in_supplier_list",
        owner_id,
    )
    touched = sorted(
        {row["id"] for row in before}
        | {getattr(p, other) for p in own_list}
        | {getattr(p, other) for p in entering_other_lists}
    )
    if side == "need":
        await bump_needs(connection, [owner_id])
        await bump_suppliers(connection, touched)
    else:
        await bump_suppliers(connection, [owner_id])
        await bump_needs(connection, touched)
