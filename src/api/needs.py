"""/api/v1/needs: procurement needs over HTTP."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from litestar.params import FromQuery, JSONBody
from litestar.serialization import encode_json

from asfmatch.api.guards import requires_key
from asfmatch.api.schemas import CodeFilter, PageNumber, PageSize, PathId, QueryId, SearchText
from asfmatch.api.state import (
    PREFETCHED_NEEDS,
    Caller,
    Db,
    PrefetchedNeeds,
    Reader,
    in_transaction,
    pooled,
    resources,
)
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

# Pages of the public needs list kept in Redis per query string.
_CACHED_PAGES = 3


def _json(body: bytes) -> Response[bytes]:
    return Response(body, media_type="application/json")


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
    async def create(self, state: State, principal: Caller, data: JSONBody[NeedCreate]) -> Need:
        app = resources(state)
        # Written with the needs posted alongside it (no transaction of its own); where that
        # refuses it, the single path says why.
        need = await service.post_need(app.need_writer, principal, data)
        if need is None:
            async with in_transaction(app) as db:
                need = await service.create_need(db, principal, data)
        return need

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

    @get(
        "/",
        summary="List and filter needs (public; drafts only to their buyer)",
        # Sent as JSON bytes (often a cached page); the schema still says what it holds.
        responses={200: ResponseSpec(data_container=Page[Need], description="one page")},
    )
    async def index(
        self,
        request: Request[Any, Any, Any],
        state: State,
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
    ) -> Response[bytes]:
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
        app = resources(state)
        # The first pages of anonymous listings without free text are cached: the same for
        # every caller, and few enough to stay in Redis (api.limits fetched the page).
        found: PrefetchedNeeds | None = request.state.get(PREFETCHED_NEEDS)
        cacheable = principal is None and q is None and page <= _CACHED_PAGES and found is not None
        if cacheable and found is not None:
            cached = app.needs_list.parse(found.counter, found.entry)
            if cached is not None and app.lists.trusts_needs_list(cached[0], cached[1]):
                return _json(cached[2])
        async with pooled(app) as reader:
            listing = await service.list_needs(reader, principal, query, page, page_size)
        body = encode_json(listing)
        if cacheable and found is not None:
            # Without a counter yet (a new or emptied Redis) this only starts one.
            counter = found.counter or b"0"
            await app.needs_list.put(found.query_string, counter, found.stamp, body)
        return _json(body)

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
