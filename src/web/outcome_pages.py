"""The outcome of a need as pages: the buyer's form (who won, value, period, jobs and training
places), and an ASF's answer to the follow-up question in its inbox."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.response import Redirect, Template

from asfmatch.api.schemas import PathId
from asfmatch.api.state import Db
from asfmatch.services import needs as needs_service
from asfmatch.services import outcomes as outcomes_service
from asfmatch.services.errors import Forbidden, Invalid
from asfmatch.services.fields import Count, Name, Sek
from asfmatch.services.outcomes import OutcomeAnswerBody, OutcomeRecord
from asfmatch.services.validation import Checker
from asfmatch.storage.needs import Need
from asfmatch.storage.outcomes import Outcome
from asfmatch.web.errors import PageError
from asfmatch.web.forms import FormState
from asfmatch.web.rendering import page
from asfmatch.web.visitor import Visitor, VisitorDep, checked_form

# Winner rows on the form: a joint bid names up to three; the API takes ten.
WINNER_ROWS = 3
RESULTS = ("awarded", "not_awarded", "cancelled")
_WINNER_FIELD = re.compile(r"^awarded_to\[(\d+)\]\.(org_number|name)$")


def _values(outcome: Outcome | None) -> dict[str, str]:
    if outcome is None:
        return {"result": "awarded"}
    values = {
        "result": outcome.result,
        "value_sek": "" if outcome.value_sek is None else str(outcome.value_sek),
        "contract_start": outcome.contract_start.isoformat() if outcome.contract_start else "",
        "contract_end": outcome.contract_end.isoformat() if outcome.contract_end else "",
        "jobs": str(outcome.jobs),
        "training_places": str(outcome.training_places),
    }
    for row, winner in enumerate(outcome.awarded_to[:WINNER_ROWS], start=1):
        values[f"winner_org_{row}"] = winner.org_number
        values[f"winner_name_{row}"] = winner.name
    return values


def _day(form: FormState, name: str) -> date | None:
    value = form.raw(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        form.fail(name, "not_a_date")
        return None


def read_outcome_form(form: FormState) -> OutcomeRecord | None:
    """The form as the API's body, every field checked; None if any failed (all are listed)."""
    result = form.raw("result")
    if result not in RESULTS:
        form.fail("result", "required")
    winners: list[dict[str, str]] = []
    for row in range(1, WINNER_ROWS + 1):
        number = form.raw(f"winner_org_{row}")
        name = form.text(f"winner_name_{row}", Name, required=False) or ""
        if not number:
            if name:
                form.fail(f"winner_org_{row}", "required")
            continue
        check = Checker()
        checked = check.org_number(f"winner_org_{row}", number)
        if check.errors:
            form.fail(f"winner_org_{row}", "org_number")
            continue
        winners.append({"org_number": checked, **({"name": name} if name else {})})
    value = form.whole_number("value_sek", Sek)
    jobs = form.whole_number("jobs", Count) or 0
    places = form.whole_number("training_places", Count) or 0
    start, end = _day(form, "contract_start"), _day(form, "contract_end")
    if form.errors:
        return None
    awarded = result == "awarded"
    return OutcomeRecord(
        result=result,  # type: ignore[arg-type]
        awarded_to=[msgspec.convert(w, outcomes_service.AwardedTo) for w in winners]
        if awarded
        else [],
        value_sek=value if awarded else None,
        contract_start=start if awarded else None,
        contract_end=end if awarded else None,
        jobs=jobs if awarded else 0,
        training_places=places if awarded else 0,
    )


def _server_errors(form: FormState, error: Invalid) -> None:
    """The service's findings next to the form's fields, in the page's language."""
    for found in error.errors:
        winner = _WINNER_FIELD.match(found.field)
        if winner:
            row = int(winner.group(1)) + 1
            if winner.group(2) == "name":
                form.fail(f"winner_name_{row}", "outcome_name_required")
            else:
                form.fail(f"winner_org_{row}", "outcome_twice")
        elif found.field == "awarded_to":
            form.fail("winner_org_1", "outcome_winner_required")
        elif found.field == "contract_end":
            form.fail("contract_end", "outcome_ends_before")
        else:
            form.fail(found.field, "server", reason=found.reason)


async def _managed_need(db: Db, visitor: Visitor, need_id: int) -> Need:
    visitor.require("buyer")
    need = await needs_service.read_need(db, visitor.reader(), need_id)
    effective = visitor.effective
    if need.status == "draft" or effective is None or effective.id != need.buyer_id:
        raise PageError(403, "error.not_for_you")
    return need


def _form_page(
    visitor: Visitor, need: Need, values: dict[str, str], state: FormState | None, status: int = 200
) -> Template:
    return page(
        visitor,
        "outcome_form.html",
        status=status,
        need=need,
        values=values,
        state=state,
        rows=range(1, WINNER_ROWS + 1),
    )


@get("/behov/{need_id:int}/utfall", name="web:outcome_form", include_in_schema=False)
async def outcome_form(visitor: VisitorDep, db: Db, need_id: PathId) -> Template:
    """The outcome form, filled with the outcome recorded so far."""
    need = await _managed_need(db, visitor, need_id)
    outcome = await outcomes_service.find_outcome(db, need_id)
    return _form_page(visitor, need, _values(outcome), None)


@post("/behov/{need_id:int}/utfall", name="web:outcome_save", include_in_schema=False)
async def save_outcome(
    request: Request[Any, Any, Any], visitor: VisitorDep, db: Db, need_id: PathId
) -> Template | Redirect:
    """Record the outcome; on any error the form comes back with each error at its field."""
    need = await _managed_need(db, visitor, need_id)
    form = FormState(await checked_form(request, visitor))
    body = read_outcome_form(form)
    if body is not None:
        try:
            await outcomes_service.record_outcome(db, visitor.principal(), need_id, body)
        except Invalid as error:
            _server_errors(form, error)
        except Forbidden:
            raise PageError(403, "error.not_for_you") from None
        else:
            return Redirect(path=f"/behov/{need_id}", status_code=303)
    return _form_page(visitor, need, dict(form.form.items()), form, status=422)


@post("/inkorg/utfall", name="web:outcome_answer", include_in_schema=False)
async def answer_outcome(request: Request[Any, Any, Any], visitor: VisitorDep, db: Db) -> Redirect:
    """An ASF answers "did you win a contract?" from its inbox."""
    visitor.require("supplier")
    form = FormState(await checked_form(request, visitor))
    need_id, won, supplier_id = form.raw("need_id"), form.raw("won"), form.raw("supplier_id")
    if not need_id.isdigit() or not supplier_id.isdigit() or won not in {"yes", "no"}:
        raise PageError(400, "error.bad_request")
    try:
        await outcomes_service.answer_outcome(
            db,
            visitor.principal(),
            int(supplier_id),
            OutcomeAnswerBody(need_id=int(need_id), won=won == "yes"),
        )
    except (Invalid, Forbidden):
        raise PageError(403, "error.not_for_you") from None
    return Redirect(path="/inkorg", status_code=303)


HANDLERS = [outcome_form, save_outcome, answer_outcome]
