"""Outcomes: the buyer records what a need led to; ASFs say whether they won; the rule of the
follow-up rounds that ask both 7 and 30 days after the deadline."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from asfmatch.services import needs as needs_service
from asfmatch.services.access import may_write_need, require
from asfmatch.services.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from asfmatch.services.fields import Count, Id, Name, OrgNumber, Sek
from asfmatch.services.notifications import owned_supplier
from asfmatch.services.validation import Checker
from asfmatch.storage import outcomes as repo
from asfmatch.storage.db import Connection
from asfmatch.storage.needs import Need
from asfmatch.storage.organisations import Principal
from asfmatch.storage.outcomes import AwardedSupplier, OpenQuestion, Outcome, OutcomeAnswer

OutcomeResult = Literal["awarded", "not_awarded", "cancelled"]
# Days after a need's deadline when its buyer and interested ASFs are asked for the outcome.
FOLLOW_UP_ROUNDS: tuple[int, ...] = (7, 30)


class AwardedTo(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A winner: any Swedish organisation number; `name` may be left out for an organisation
    that is on asf-match (its own name is used)."""

    org_number: OrgNumber
    name: Name | None = None


class OutcomeRecord(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The result of a need. Only `awarded` takes winners, a value, a contract period and the
    jobs and training places the contract creates."""

    result: OutcomeResult
    awarded_to: Annotated[list[AwardedTo], Meta(max_length=10)] = msgspec.field(
        default_factory=list
    )
    value_sek: Sek | None = None
    contract_start: date | None = None
    contract_end: date | None = None
    jobs: Count = 0
    training_places: Count = 0


class OutcomeAnswerBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An ASF's answer to "was a contract signed?" for a need it was interested in."""

    need_id: Id
    won: bool


def due_rounds(closes_at: datetime, now: datetime) -> list[int]:
    """The follow-up rounds whose day has come, earliest first."""
    return [days for days in FOLLOW_UP_ROUNDS if closes_at + timedelta(days=days) <= now]


def _awards_only(body: OutcomeRecord, check: Checker) -> None:
    if body.result == "awarded":
        if not body.awarded_to:
            check.fail("awarded_to", "name at least one organisation the need was awarded to")
        return
    extras = {
        "awarded_to": bool(body.awarded_to),
        "value_sek": body.value_sek is not None,
        "contract_start": body.contract_start is not None,
        "contract_end": body.contract_end is not None,
        "jobs": body.jobs != 0,
        "training_places": body.training_places != 0,
    }
    for field, given in extras.items():
        if given:
            check.fail(field, f"only an award has this; the result is {body.result}")


async def _checked_winners(
    db: Connection, body: OutcomeRecord, check: Checker
) -> list[AwardedSupplier]:
    valid: dict[int, str] = {}
    for position, winner in enumerate(body.awarded_to):
        before = len(check.errors)
        number = check.org_number(f"awarded_to[{position}].org_number", winner.org_number)
        if len(check.errors) == before:
            valid[position] = number
    known = await repo.known_organisations(db, list(valid.values()))
    winners: list[AwardedSupplier] = []
    seen: set[str] = set()
    for position, number in valid.items():
        field = f"awarded_to[{position}]"
        if number in seen:
            check.fail(f"{field}.org_number", f"{number} is named twice")
            continue
        seen.add(number)
        found = known.get(number)
        name = (body.awarded_to[position].name or "").strip() or (found.name if found else "")
        if not name:
            check.fail(f"{field}.name", "required for an organisation that is not on asf-match")
            continue
        winners.append(
            AwardedSupplier(
                org_number=number, name=name, supplier_id=found.supplier_id if found else None
            )
        )
    return winners


async def _managed_need(db: Connection, principal: Principal, need_id: int) -> Need:
    need = await needs_service.read_need(db, principal, need_id)
    if not may_write_need(principal, need):
        raise Forbidden("only the need's buyer and admins record its outcome")
    return need


async def record_outcome(
    db: Connection, principal: Principal | None, need_id: int, body: OutcomeRecord
) -> Outcome:
    """Record (or correct) a need's outcome; an open need is closed by it (withdrawn when the
    procurement was cancelled)."""
    caller = require(principal, "admin", "buyer")
    need = await _managed_need(db, caller, need_id)
    if need.status == "draft":
        raise Conflict(f"need {need_id} is a draft; publish it before recording an outcome")
    check = Checker()
    _awards_only(body, check)
    winners = await _checked_winners(db, body, check)
    if (
        body.contract_start is not None
        and body.contract_end is not None
        and body.contract_end < body.contract_start
    ):
        check.fail("contract_end", "lies before contract_start")
    check.raise_if_failed()
    if need.status == "open":
        await needs_service.end_need(
            db, caller, need_id, "withdrawn" if body.result == "cancelled" else "closed"
        )
    return await repo.put_outcome(
        db,
        need_id,
        result=body.result,
        awarded_to=winners,
        value_sek=body.value_sek,
        contract_start=body.contract_start,
        contract_end=body.contract_end,
        jobs=body.jobs,
        training_places=body.training_places,
        recorded_by=caller.organisation_id,
    )


async def read_outcome(db: Connection, principal: Principal | None, need_id: int) -> Outcome:
    """A need's outcome: public like the need itself (award results are public records)."""
    await needs_service.read_need(db, principal, need_id)
    found = await repo.get_outcome(db, need_id)
    if found is None:
        raise NotFound("outcome of need", need_id)
    return found


async def find_outcome(db: Connection, need_id: int) -> Outcome | None:
    """A need's outcome or None, for pages that already read the need."""
    return await repo.get_outcome(db, need_id)


async def answer_outcome(
    db: Connection, principal: Principal | None, supplier_id: int, body: OutcomeAnswerBody
) -> OutcomeAnswer:
    """An ASF says whether it won a contract for a need it answered interested to."""
    await owned_supplier(db, principal, supplier_id)
    if not await repo.was_asked_or_interested(db, body.need_id, supplier_id):
        reason = f"supplier {supplier_id} was not interested in need {body.need_id}"
        raise Invalid([FieldError("need_id", reason)])
    return await repo.answer(db, body.need_id, supplier_id, body.won)


async def supplier_answers(db: Connection, need_id: int) -> list[OutcomeAnswer]:
    """What ASFs said about a need (its buyer's page shows them)."""
    return await repo.answers_for_need(db, need_id)


async def open_questions(db: Connection, organisation_id: int) -> list[OpenQuestion]:
    """Follow-up questions still waiting for the organisation."""
    return await repo.open_questions(db, organisation_id)
