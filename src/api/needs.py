"""/api/v1/needs: procurement needs over HTTP."""

from __future__ import annotations

from litestar import Controller, get, patch, post
from litestar.params import FromQuery, JSONBody

from asfmatch.api.guards import requires_key
from asfmatch.api.schemas import CodeFilter, PageNumber, PageSize, PathId, QueryId, SearchText
from asfmatch.api.state import Caller, Db, Reader
from asfmatch.services import joint_bids as joint_bids_service
from asfmatch.services import needs as service
from asfmatch.services.joint_bids import NeedJointBids
from asfmatch.services.needs import (
    NeedCreate,
    NeedLots,
    NeedLotsCreate,
    NeedQuery,
    NeedSource,
    NeedStatus,
    NeedUpdate,
)
from asfmatch.storage.needs import LotRef, Need
from asfmatch.storage.paging import Page


class NeedController(Controller):
    """/api/v1/needs"""

    path = "/api/v1/needs"
    tags = ["needs"]

    @post(
        "/",
        guards=[requires_key],
        status_code=201,
        summary="Post a procurement need (buyer, or admin for a buyer)",
    )
    async def create(self, db: Db, principal: Caller, data: JSONBody[NeedCreate]) -> Need:
        return await service.create_need(db, principal, data)

    @post(
        "/lots",
        guards=[requires_key],
        status_code=201,
        summary="Post a need split into lots, each lot a need of one procedure (all or none)",
    )
    async def create_lots(
        self, db: Db, principal: Caller, data: JSONBody[NeedLotsCreate]
    ) -> NeedLots:
        return await service.create_lots(db, principal, data)

    @get("/", summary="List and filter needs (public; drafts only to their buyer)")
    async def index(
        self,
        reader: Reader,
        principal: Caller,
        lan: CodeFilter = None,
        kommun: CodeFilter = None,
        cpv: CodeFilter = None,
        status: FromQuery[NeedStatus | None] = None,
        reserved: FromQuery[bool | None] = None,
        social_objective: FromQuery[bool | None] = None,
        source: FromQuery[NeedSource | None] = None,
        buyer_id: QueryId = None,
        q: SearchText = None,
        page: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> Page[Need]:
        query = NeedQuery(
            lan=lan,
            kommun=kommun,
            cpv=cpv,
            status=status,
            reserved=reserved,
            social_objective=social_objective,
            source=source,
            buyer_id=buyer_id,
            q=q,
        )
        return await service.list_needs(reader, principal, query, page, page_size)

    @get("/{need_id:int}", summary="One need (public unless it is a draft)")
    async def read(self, reader: Reader, principal: Caller, need_id: PathId) -> Need:
        return await service.read_need(reader, principal, need_id)

    @get("/{need_id:int}/lots", summary="The lots of the need's procedure, the need included")
    async def lots(self, reader: Reader, principal: Caller, need_id: PathId) -> list[LotRef]:
        return await service.need_lots(reader, principal, need_id)

    @get(
        "/{need_id:int}/joint-bids",
        summary="Groups of ASFs that could bid together for a need none can deliver alone",
    )
    async def joint_bids(self, db: Db, principal: Caller, need_id: PathId) -> NeedJointBids:
        return await joint_bids_service.joint_bids(db, principal, need_id)

    @patch("/{need_id:int}", guards=[requires_key], summary="Change a need (its buyer or an admin)")
    async def update(
        self, db: Db, principal: Caller, need_id: PathId, data: JSONBody[NeedUpdate]
    ) -> Need:
        return await service.update_need(db, principal, need_id, data)

    @post(
        "/{need_id:int}/close",
        guards=[requires_key],
        status_code=200,
        summary="Close a need: it has been procured",
    )
    async def close(self, db: Db, principal: Caller, need_id: PathId) -> Need:
        return await service.end_need(db, principal, need_id, "closed")

    @post(
        "/{need_id:int}/withdraw",
        guards=[requires_key],
        status_code=200,
        summary="Withdraw a need: it is cancelled",
    )
    async def withdraw(self, db: Db, principal: Caller, need_id: PathId) -> Need:
        return await service.end_need(db, principal, need_id, "withdrawn")
