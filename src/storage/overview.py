"""Public figures of the start page and the map: the same for every visitor, signed in or not."""

from __future__ import annotations

import msgspec

from asfmatch.reference.regions import lan
from asfmatch.storage.db import Connection


class PublicCounts(msgspec.Struct, frozen=True, kw_only=True):
    """Counts a visitor sees: active ASFs, open needs, buyers, and suggested pairs."""

    active_suppliers: int
    open_needs: int
    buyers: int
    matches: int


async def public_counts(connection: Connection) -> PublicCounts:
    """Counts over public data only (drafts and inactive profiles are left out)."""
    row = await connection.fetchrow(
        """
        SELECT (SELECT count(*) FROM supplier_profiles WHERE active) AS active_suppliers,
               (SELECT count(*) FROM needs WHERE status = 'open') AS open_needs,
               (SELECT count(*) FROM organisations WHERE kind = 'buyer') AS buyers,
               (SELECT count(*) FROM matches m JOIN needs n ON n.id = m.need_id
                 WHERE n.status = 'open') AS matches
        """
    )
    assert row is not None
    return PublicCounts(**dict(row))


async def suppliers_per_lan(connection: Connection) -> dict[str, int]:
    """Active ASFs serving at least part of each län (a nationwide ASF counts in every län)."""
    rows = await connection.fetch(
        """
        SELECT l.code, count(DISTINCT s.id) AS n
        FROM supplier_profiles s
        CROSS JOIN LATERAL unnest(s.service_area) a
        CROSS JOIN LATERAL (SELECT left(a, 2) AS code WHERE a <> 'SE'
                            UNION SELECT unnest($1::text[]) WHERE a = 'SE') l
        WHERE s.active
        GROUP BY l.code
        """,
        sorted(lan()),
    )
    return {row["code"]: row["n"] for row in rows}


async def open_needs_per_lan(connection: Connection) -> dict[str, int]:
    """Open needs in each län."""
    rows = await connection.fetch(
        "SELECT lan, count(*) AS n FROM needs WHERE status = 'open' GROUP BY lan"
    )
    return {row["lan"]: row["n"] for row in rows}


async def newest_need_with_matches(connection: Connection) -> int | None:
    """The newest open need that has at least one match (where a presenter should start)."""
    found: int | None = await connection.fetchval(
        """
        SELECT n.id FROM needs n WHERE n.status = 'open'
          AND EXISTS (SELECT 1 FROM matches m WHERE m.need_id = n.id)
        ORDER BY n.id DESC LIMIT 1
        """
    )
    return found


async def best_told_supplier(connection: Connection, need_id: int) -> int | None:
    """The supplier told about this need with the highest score (the presenter's "inbox" view
    follows it), or None while nobody has been told yet."""
    found: int | None = await connection.fetchval(
        "SELECT supplier_id FROM notified_needs WHERE need_id = $1"
        " ORDER BY score DESC, supplier_id LIMIT 1",
        need_id,
    )
    return found


async def matched_suppliers(connection: Connection, need_id: int, limit: int) -> list[int]:
    """The suppliers on a need's list, best first (for markers on the presenter's map)."""
    rows = await connection.fetch(
        "SELECT supplier_id FROM matches WHERE need_id = $1 AND in_need_list"
        " ORDER BY score DESC, supplier_id LIMIT $2",
        need_id,
        limit,
    )
    return [row["supplier_id"] for row in rows]
