"""Needs close on their own when their `closes_at` has passed, and leave every match list."""

from __future__ import annotations

from asfmatch.storage import jobs, matches
from asfmatch.storage.db import Connection
from asfmatch.storage.needs import close_needs_past_deadline


async def close_expired_needs(connection: Connection) -> list[int]:
    """Close every open need past its deadline in one transaction; return their ids."""
    async with connection.transaction():
        closed = await close_needs_past_deadline(connection)
        # All the closed needs are locked before any supplier (storage/matches.py lock order);
        # suppliers that had them on their lists get them refilled.
        for supplier_id in await matches.forget_needs(connection, closed):
            await jobs.enqueue(connection, jobs.RANK_SUPPLIER, supplier_id)
    return closed
