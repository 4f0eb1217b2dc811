"""/api/v1/potential: how many ASFs could deliver a draft need, and whether to reserve it."""

from __future__ import annotations

from litestar import Controller, post
from litestar.datastructures import State
from litestar.params import JSONBody

from asfmatch.api.guards import requires_key
from asfmatch.api.state import Caller, Db, resources
from asfmatch.services import potential as service
from asfmatch.services.potential import PotentialDraft, PotentialReport


class PotentialController(Controller):
    """/api/v1/potential"""

    path = "/api/v1/potential"
    tags = ["potential"]

    @post(
        "/",
        guards=[requires_key],
        status_code=200,
        summary="Potential and advice for a draft need (buyer or admin)",
        description=(
            "Counts the active ASFs serving the draft's kommun (or whole län), the ones the "
            "ranking scores at least `min_score` (relevant), and those of them meeting the "
            "30 % target-group rule (LOU 4 kap. 18 §), with what they can carry; then advises: "
            "`reserve_contract`, `reserve_lots` (with a lot plan), `employment_requirement` "
            "(LOU 17 kap. 1 §) or `none`, each reason as a code, its numbers and English text. "
            "Nothing is stored. Give exactly one of `kommun` and `lan`."
        ),
    )
    async def assess(
        self, state: State, db: Db, principal: Caller, data: JSONBody[PotentialDraft]
    ) -> PotentialReport:
        app = resources(state)
        return await service.potential(db, app.potential_index, principal, data, app.settings)
