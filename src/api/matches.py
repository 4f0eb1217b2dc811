"""/api/v1/needs/{id}/matches and /api/v1/suppliers/{id}/matches over HTTP. The body is the
JSON the service hands back (often straight from the Redis cache), sent as it is."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.openapi import ResponseSpec

from asfmatch.api.guards import requires_key
from asfmatch.api.schemas import PathId
from asfmatch.api.state import Caller, Db, resources
from asfmatch.services import matches as service
from asfmatch.services.matches import NeedMatches, SupplierMatches


def _json(body: bytes) -> Response[bytes]:
    return Response(body, media_type="application/json")


class MatchController(Controller):
    """/api/v1/needs/{id}/matches and /api/v1/suppliers/{id}/matches"""

    path = "/api/v1"
    guards = [requires_key]
    tags = ["matches"]

    @get(
        "/needs/{need_id:int}/matches",
        summary="A need's ranked suppliers (its buyer, admins, or a matched supplier: its own row)",
        # The body is sent as cached JSON bytes; the schema still says what it holds.
        responses={200: ResponseSpec(data_container=NeedMatches, description="ranked suppliers")},
    )
    async def need_matches(
        self, state: State, db: Db, principal: Caller, need_id: PathId
    ) -> Response[bytes]:
        app = resources(state)
        size = app.settings.match_list_size
        return _json(await service.need_matches(db, app.cache, size, principal, need_id))

    @get(
        "/suppliers/{supplier_id:int}/matches",
        summary="A supplier's ranked open needs",
        responses={200: ResponseSpec(data_container=SupplierMatches, description="ranked needs")},
    )
    async def supplier_matches(
        self, state: State, db: Db, principal: Caller, supplier_id: PathId
    ) -> Response[bytes]:
        app = resources(state)
        size = app.settings.match_list_size
        return _json(await service.supplier_matches(db, app.cache, size, principal, supplier_id))
