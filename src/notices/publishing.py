"""Publishing an imported need the way POST /needs publishes one: stored, then queued for
ranking in the same transaction, so matches, notifications and webhooks follow as for any need."""

from __future__ import annotations

from collections.abc import Mapping

from asfmatch.storage import jobs, matches
from asfmatch.storage import needs as needs_repo
from asfmatch.storage.db import Connection
from asfmatch.storage.needs import Need


async def publish_need(
    connection: Connection, buyer_id: int | None, fields: Mapping[str, object]
) -> Need:
    """Insert a need and, when open, queue it for ranking (as the API's create does)."""
    need = await needs_repo.insert_need(connection, buyer_id, fields)
    if need.status == "open":
        await jobs.enqueue(connection, jobs.RANK_NEED, need.id)
    return need


async def need_changed(connection: Connection, before: Need, after: Need) -> None:
    """Drop the old ranking and queue what the change calls for (as the API's update does)."""
    if after == before:
        return
    lost_by = await matches.forget_need(connection, after.id)
    if after.status == "open":
        await jobs.enqueue(connection, jobs.RANK_NEED, after.id)
    for supplier_id in lost_by:
        await jobs.enqueue(connection, jobs.RANK_SUPPLIER, supplier_id)
