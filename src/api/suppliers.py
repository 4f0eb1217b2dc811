"""/api/v1/suppliers: supplier profiles over HTTP."""

from __future__ import annotations

from litestar import Controller, get, patch, post
from litestar.datastructures import State
from litestar.params import FromQuery, JSONBody

from asfmatch.api.guards import requires_key
from asfmatch.api.schemas import CodeFilter, PageNumber, PageSize, PathId, SearchText
from asfmatch.api.state import Caller, Db, resources
from asfmatch.services import suppliers as service
from asfmatch.services.suppliers import SupplierCreate, SupplierQuery, SupplierUpdate
from asfmatch.storage.paging import Page
from asfmatch.storage.suppliers import Supplier


class SupplierController(Controller):
    """/api/v1/suppliers"""

    path = "/api/v1/suppliers"
    tags = ["suppliers"]

    @post("/", guards=[requires_key], status_code=201, summary="Create a supplier profile")
    async def create(
        self, state: State, db: Db, principal: Caller, data: JSONBody[SupplierCreate]
    ) -> Supplier:
        made = await service.create_supplier(db, principal, data)
        if principal is not None:
            # The key's remembered principal knew no profile; looked up anew, it carries this
            # one, so its reads of match lists are answered from the cache (api/hot_reads.py).
            resources(state).principals.forget_key(principal.key_id)
        return made

    @get("/", summary="List and filter supplier profiles (public)")
    async def index(
        self,
        db: Db,
        principal: Caller,
        lan: CodeFilter = None,
        kommun: CodeFilter = None,
        cpv: CodeFilter = None,
        active: FromQuery[bool | None] = None,
        q: SearchText = None,
        page: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> Page[Supplier]:
        query = SupplierQuery(lan=lan, kommun=kommun, cpv=cpv, active=active, q=q)
        return await service.list_suppliers(db, principal, query, page, page_size)

    @get("/{supplier_id:int}", summary="One supplier profile (public)")
    async def read(self, db: Db, principal: Caller, supplier_id: PathId) -> Supplier:
        return await service.read_supplier(db, principal, supplier_id)

    @patch(
        "/{supplier_id:int}",
        guards=[requires_key],
        summary="Change a supplier profile (the supplier or an admin)",
    )
    async def update(
        self,
        db: Db,
        principal: Caller,
        supplier_id: PathId,
        data: JSONBody[SupplierUpdate],
    ) -> Supplier:
        return await service.update_supplier(db, principal, supplier_id, data)
