"""Between two talks the demo goes back to its loaded state."""

from __future__ import annotations

from asfmatch.services import needs as needs_service
from asfmatch.services.access import require
from asfmatch.services.errors import NotFound
from asfmatch.services.needs import NeedCreate
from asfmatch.storage import demo_reset, jobs, matches, organisations
from asfmatch.storage.db import Connection
from asfmatch.storage.organisations import Principal

# The demo buyer the guided run posts for: Luleå, where the demo has ASFs to match.
GUIDED_BUYER = "212000-2742"


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


async def guided_run(db: Connection, need: NeedCreate) -> int:
    """Post the guided run's prepared need for the demo buyer, once per reset: if it is open
    already, its id is returned and nothing is posted. Only `asfmatch demo` offers this (the
    presenter's page checks); it is what lets a read-only projector start the run without
    being able to post anything else."""
    buyer = await organisations.find_organisation(db, GUIDED_BUYER)
    if buyer is None:
        raise NotFound("demo buyer", GUIDED_BUYER)
    existing = await demo_reset.open_need_posted_after_load(db, buyer.id, need.title)
    if existing is not None:
        return existing
    principal = Principal(organisation_id=buyer.id, role="buyer", key_id=0)
    created = await needs_service.create_need(db, principal, need)
    return created.id
