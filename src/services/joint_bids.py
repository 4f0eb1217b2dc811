"""Joint-bid suggestions for a need, as its readers see them (docs/joint-bids.md)."""

from __future__ import annotations

import msgspec

from asfmatch.matching.joint_bids import JointBid
from asfmatch.services.needs import read_need
from asfmatch.storage import joint_bids as repo
from asfmatch.storage.db import Connection
from asfmatch.storage.organisations import Principal


class NeedJointBids(msgspec.Struct, frozen=True, kw_only=True):
    """Groups of ASFs that could deliver a need together, best first. Empty while one ASF can
    deliver it alone, when no group can, and once the need is no longer open."""

    need_id: int
    groups: list[JointBid]


async def joint_bids(db: Connection, principal: Principal | None, need_id: int) -> NeedJointBids:
    """A need's suggested groups; whoever may read the need may read them."""
    need = await read_need(db, principal, need_id)
    groups = await repo.groups_of(db, need_id) if need.status == "open" else []
    return NeedJointBids(need_id=need_id, groups=groups)
