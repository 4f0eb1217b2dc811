"""Between two talks the demo goes back to its loaded state."""

from __future__ import annotations

from asfmatch.services.access import require
from asfmatch.storage import demo_reset, jobs, matches
from asfmatch.storage.db import Connection
from asfmatch.storage.organisations import Principal


async def reset_demo(db: Connection, principal: Principal | None) -> int:
    """Remove the needs posted since the demo data was loaded; the suppliers they were matched
    to are ranked again. Returns how many needs went."""
    require(principal, "admin")
    removed = await demo_reset.needs_posted_after_load(db)
    affected: set[int] = set()
    for need_id in removed:
        affected.update(await matches.forget_need(db, need_id))
        await demo_reset.delete_need(db, need_id)
    for supplier_id in sorted(affected):
        await jobs.enqueue(db, jobs.RANK_SUPPLIER, supplier_id)
    return len(removed)
