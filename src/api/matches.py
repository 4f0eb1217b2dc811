"""/api/v1/needs/{id}/matches and /api/v1/suppliers/{id}/matches over HTTP. The body is the
JSON the service hands back (often straight from the Redis cache), sent as it is."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.openapi import ResponseSpec

from asfmatch.api.guards import requires_key
from asfmatch.api.schemas import PathId
from asfmatch.api.state import PREFETCHED, Caller, Prefetched, pooled, resources
from asfmatch.services import matches as service
from asfmatch.services.matches import NeedMatches, SupplierMatches


def _json(body: bytes) -> Response[bytes]:
    return Response(body, media_type="application/json")


def _prefetched(request: Request[Any, Any, Any], owner: str, owner_id: int) -> Prefetched | None:
    """The cache entry api.limits.RequestLimits fetched for this list, if it did."""
    found: Prefetched | None = request.state.get(PREFETCHED)
    if found is None or (found.owner, found.owner_id) != (owner, owner_id):
        return None
    return found


class MatchController(Controller):
    """/api/v1/needs/{id}/matches and /api/v1/suppliers/{id}/matches. A cached list the
    process trusts (storage/list_versions.py) is answered without a PostgreSQL connection."""

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
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: Caller,
        need_id: PathId,
    ) -> Response[bytes]:
        app = resources(state)
        found = _prefetched(request, "need", need_id)
        if found is not None:
            cached = service.cached_need_matches(app.lists, principal, need_id, found.found)
            if cached is not None:
                return _json(cached)
        fetched = None if found is None else (found.found, found.stamp)
        size = app.settings.match_list_size
        async with pooled(app) as reader:
            body = await service.need_matches(
                reader, app.cache, size, principal, need_id, fetched, app.lists.trusted_since
            )
        return _json(body)

    @get(
        "/suppliers/{supplier_id:int}/matches",
        summary="A supplier's ranked open needs",
        responses={200: ResponseSpec(data_container=SupplierMatches, description="ranked needs")},
    )
    async def supplier_matches(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: Caller,
        supplier_id: PathId,
    ) -> Response[bytes]:
        app = resources(state)
        found = _prefetched(request, "supplier", supplier_id)
        if found is not None:
            cached = service.cached_supplier_matches(app.lists, principal, supplier_id, found.found)
            if cached is not None:
                return _json(cached)
        fetched = None if found is None else (found.found, found.stamp)
        size = app.settings.match_list_size
        async with pooled(app) as reader:
            body = await service.supplier_matches(
                reader, app.cache, size, principal, supplier_id, fetched, app.lists.trusted_since
            )
        return _json(body)
