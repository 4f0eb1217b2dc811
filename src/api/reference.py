"""Reference data for pickers: län with their kommuner, and CPV code search."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import FromPath, QueryParameter

from asfmatch.reference.cpv import CpvCode, search_cpv
from asfmatch.reference.regions import Lan, lan
from asfmatch.services.errors import NotFound
from asfmatch.services.text import LINE


class ReferenceController(Controller):
    """/api/v1/regions and /api/v1/cpv"""

    path = "/api/v1"
    tags = ["reference data"]

    @get("/regions", summary="Every län with its kommuner (SCB codes)", cache=3600)
    async def regions(self) -> list[Lan]:
        return list(lan().values())

    @get("/regions/{lan_code:str}", summary="One län with its kommuner")
    async def region(self, lan_code: FromPath[str]) -> Lan:
        found = lan().get(lan_code)
        if found is None:
            raise NotFound("län", lan_code)
        return found

    @get("/cpv", summary="Search CPV codes by code prefix or Swedish/English words")
    async def cpv(
        self,
        q: Annotated[str, QueryParameter(min_length=1, max_length=100, pattern=LINE)],
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    ) -> list[CpvCode]:
        return search_cpv(q, limit)
