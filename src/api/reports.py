"""/api/v1/reports: yearly figures of social procurement, nationally, per län and per buyer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from asfmatch.api.schemas import CodeFilter, QueryId
from asfmatch.api.state import Caller, Db
from asfmatch.services import reports as service
from asfmatch.services.reports import Report

Year = Annotated[int | None, QueryParameter(ge=1900, le=2200)]


class ReportController(Controller):
    """/api/v1/reports"""

    path = "/api/v1/reports"
    tags = ["reports"]

    @get(
        "/",
        summary="Yearly figures: national and per län for everyone, per buyer for the buyer "
        "itself and admins",
    )
    async def report(
        self,
        db: Db,
        principal: Caller,
        lan: CodeFilter = None,
        buyer_id: QueryId = None,
        from_year: Year = None,
        to_year: Year = None,
    ) -> Report:
        return await service.report(
            db,
            principal,
            lan_code=lan,
            buyer_id=buyer_id,
            from_year=from_year,
            to_year=to_year,
            now=datetime.now(UTC),
        )
