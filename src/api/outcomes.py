"""Outcomes of needs over HTTP: the buyer's record, the ASFs' answers, open follow-up
questions, and a need with its award as an OCDS release."""

from __future__ import annotations

from litestar import Controller, get, post, put
from litestar.params import JSONBody

from asfmatch.api.guards import requires_key
from asfmatch.api.schemas import PathId
from asfmatch.api.state import Caller, Db
from asfmatch.services import ocds_export
from asfmatch.services import outcomes as service
from asfmatch.services.access import require
from asfmatch.services.ocds_export import OcdsRelease
from asfmatch.services.outcomes import OutcomeAnswerBody, OutcomeRecord
from asfmatch.storage.outcomes import OpenQuestion, Outcome, OutcomeAnswer


class OutcomeController(Controller):
    """/api/v1/needs/{id}/outcome, /api/v1/needs/{id}/ocds,
    /api/v1/suppliers/{id}/outcome-answers, /api/v1/outcome-questions"""

    path = "/api/v1"
    tags = ["outcomes"]

    @put(
        "/needs/{need_id:int}/outcome",
        guards=[requires_key],
        summary="Record the outcome of a need (its buyer or an admin); an open need closes",
    )
    async def record(
        self, db: Db, principal: Caller, need_id: PathId, data: JSONBody[OutcomeRecord]
    ) -> Outcome:
        return await service.record_outcome(db, principal, need_id, data)

    @get("/needs/{need_id:int}/outcome", summary="The recorded outcome of a need (public)")
    async def read(self, db: Db, principal: Caller, need_id: PathId) -> Outcome:
        return await service.read_outcome(db, principal, need_id)

    @get(
        "/needs/{need_id:int}/ocds",
        summary="A need and its award as an OCDS 1.1 release (public unless a draft)",
    )
    async def ocds(self, db: Db, principal: Caller, need_id: PathId) -> OcdsRelease:
        return await ocds_export.need_release(db, principal, need_id)

    @post(
        "/suppliers/{supplier_id:int}/outcome-answers",
        guards=[requires_key],
        status_code=200,
        summary="An ASF says whether it won a contract for a need it was interested in",
    )
    async def answer(
        self, db: Db, principal: Caller, supplier_id: PathId, data: JSONBody[OutcomeAnswerBody]
    ) -> OutcomeAnswer:
        return await service.answer_outcome(db, principal, supplier_id, data)

    @get(
        "/outcome-questions",
        guards=[requires_key],
        summary="Follow-up questions waiting for the caller's organisation",
    )
    async def questions(self, db: Db, principal: Caller) -> list[OpenQuestion]:
        caller = require(principal, "buyer", "supplier", "admin")
        return await service.open_questions(db, caller.organisation_id)
