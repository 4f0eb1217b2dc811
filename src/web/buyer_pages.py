"""A buyer's pages: my needs, post and edit a need, close or withdraw it, its live matches with
their reasons, who answered, and the list as CSV for market dialogue."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from asfmatch.api.schemas import PathId
from asfmatch.api.state import Db, resources
from asfmatch.services import joint_bids as joint_bids_service
from asfmatch.services import matches as matches_service
from asfmatch.services import needs as needs_service
from asfmatch.services import notifications as notifications_service
from asfmatch.services import outcomes as outcomes_service
from asfmatch.services.errors import FieldError, Forbidden, Invalid
from asfmatch.services.fields import Count, CpvCodes, LongText, Name, Sek
from asfmatch.services.matches import NeedMatches
from asfmatch.services.needs import (
    MAX_LOTS,
    KommunList,
    NeedCreate,
    NeedLotsCreate,
    NeedQuery,
    NeedUpdate,
)
from asfmatch.storage.needs import Need
from asfmatch.web.errors import PageError
from asfmatch.web.explain import explain
from asfmatch.web.forms import FormState
from asfmatch.web.i18n import SWEDEN, Translator
from asfmatch.web.rendering import cpv_label, kommun_name, page
from asfmatch.web.visitor import Visitor, VisitorDep, checked_form

CPV_FIELDS = ["cpv_1", "cpv_2", "cpv_3"]
# Form field names of the API's fields, so a service's error lands next to the right input.
FIELD_NAMES = {
    "title": "title",
    "description": "description",
    "kommun": "kommun",
    "kommuner": "more_kommuner",
    "cpv_codes": "cpv_1",
    "estimated_value_sek": "estimated_value_sek",
    "training_places": "training_places",
    "closes_at": "closes_on",
    "buyer_id": "title",
    "status": "draft",
}
_need_matches = msgspec.json.Decoder(NeedMatches)


class NeedFields(msgspec.Struct, kw_only=True):
    """A need form's values once every field passed its check."""

    title: str
    description: str
    kommun: str
    # The kommun first, then those of a joint procurement.
    kommuner: list[str]
    cpv_codes: list[str]
    estimated_value_sek: int | None
    reserved: bool
    training_places: int
    closes_at: datetime | None
    status: str


def read_need_form(form: FormState) -> NeedFields | None:
    """Check every field with the API's types and rules; None if any failed (all are listed)."""
    title = form.text("title", Name, required=True)
    description = form.text("description", LongText, required=False) or ""
    kommun = form.kommun("kommun")
    more: list[str] = []
    for name in (n.strip() for n in form.raw("more_kommuner").split(",")):
        code = form.kommun_named("more_kommuner", name) if name else None
        if code is not None and code != kommun and code not in more:
            more.append(code)
    if kommun is not None:
        form.typed("more_kommuner", KommunList, [kommun, *more])
    cpv_codes = form.cpv_codes(CPV_FIELDS)
    form.typed("cpv_1", CpvCodes, cpv_codes)
    value = form.whole_number("estimated_value_sek", Sek)
    places = form.whole_number("training_places", Count) or 0
    closes_at = form.closing_date("closes_on")
    if form.errors or title is None or kommun is None:
        return None
    return NeedFields(
        title=title,
        description=description,
        kommun=kommun,
        kommuner=[kommun, *more],
        cpv_codes=cpv_codes,
        estimated_value_sek=value,
        reserved=form.checkbox("reserved"),
        training_places=places,
        closes_at=closes_at,
        status="draft" if form.checkbox("draft") else "open",
    )


def _form_values(need: Need | None) -> dict[str, str]:
    """What the form's inputs show when it opens: a need's current values, or nothing."""
    if need is None:
        return {}
    values = {
        "title": need.title,
        "description": need.description,
        "kommun": kommun_name(need.kommun),
        "more_kommuner": ", ".join(kommun_name(code) for code in need.kommuner[1:]),
        "estimated_value_sek": ""
        if need.estimated_value_sek is None
        else str(need.estimated_value_sek),
        "training_places": str(need.training_places),
        "closes_on": ""
        if need.closes_at is None
        else need.closes_at.astimezone().date().isoformat(),
        "reserved": "on" if need.reserved else "",
        "draft": "on" if need.status == "draft" else "",
    }
    for name, code in zip(CPV_FIELDS, need.cpv_codes, strict=False):
        values[name] = f"{code} {cpv_label(code, 'sv')}"
    return values


@get("/mina-behov", name="web:my_needs", include_in_schema=False)
async def my_needs(visitor: VisitorDep, db: Db) -> Template:
    """The signed-in buyer's needs, drafts included; a first-time buyer sees how to start."""
    visitor.require("buyer")
    organisation = visitor.effective
    assert organisation is not None
    found = await needs_service.list_needs(
        db, visitor.principal(), NeedQuery(buyer_id=organisation.id), page=1, page_size=100
    )
    questions = await outcomes_service.open_questions(db, organisation.id)
    return page(visitor, "my_needs.html", needs=found.items, questions=questions)


def _need_form_page(
    visitor: Visitor,
    need: Need | None,
    values: dict[str, str],
    state: FormState | None,
    status: int = 200,
) -> Template:
    return page(
        visitor,
        "need_form.html",
        status=status,
        need=need,
        values=values,
        state=state,
        cpv_fields=CPV_FIELDS,
    )


@get("/behov/nytt", name="web:need_new", include_in_schema=False)
async def new_need_page(visitor: VisitorDep, exempel: FromQuery[bool] = False) -> Template:
    """An empty need form, or (`?exempel=true`) the prepared need of the guided demo."""
    visitor.require("buyer")
    values = _prepared_need(visitor) if exempel else {}
    return _need_form_page(visitor, None, values, None)


def _prepared_need(visitor: Visitor) -> dict[str, str]:
    """The guided demo's need, closing in 30 days, in Luleå (the demo has ASFs there). Its text
    is Swedish whatever the page's language: the matching reads Swedish."""
    swedish = Translator("sv")
    closes = (datetime.now(SWEDEN).date() + timedelta(days=30)).isoformat()
    return {
        "title": swedish("example.title"),
        "description": swedish("example.description"),
        "kommun": "Luleå",
        "cpv_1": f"90910000-9 {cpv_label('90910000', visitor.language)}",
        "estimated_value_sek": "600000",
        "training_places": "2",
        "closes_on": closes,
        "reserved": "on",
    }


def _split(form: FormState) -> tuple[int, int] | None:
    """The advice's "split into lots" button: `split=<lots>:<reserved lots>`; None when the
    form was posted otherwise or the value is not such a pair (the need is posted whole)."""
    lots, _, reserved = form.raw("split").partition(":")
    if not (lots.isdigit() and reserved.isdigit()):
        return None
    count, reserved_count = int(lots), int(reserved)
    if not 2 <= count <= MAX_LOTS or reserved_count > count:
        return None
    return count, reserved_count


@post("/behov/nytt", name="web:need_create", include_in_schema=False)
async def create_need(
    request: Request[Any, Any, Any], visitor: VisitorDep, db: Db
) -> Template | Redirect:
    """Post a need, reserved or split into lots when the buyer follows the advice with its
    button; on any error the form comes back with every error next to its field."""
    visitor.require("buyer")
    form = FormState(await checked_form(request, visitor))
    fields = read_need_form(form)
    if fields is not None:
        if form.raw("apply") == "reserve":
            fields.reserved = True
        body = msgspec.convert(msgspec.to_builtins(fields), NeedCreate)
        split = _split(form)
        try:
            if split is None:
                need = await needs_service.create_need(db, visitor.principal(), body)
            else:
                lots = NeedLotsCreate(need=body, lots=split[0], reserved_lots=split[1])
                need = (await needs_service.create_lots(db, visitor.principal(), lots)).needs[0]
        except Invalid as error:
            form.add_server_errors(_unnested(error.errors), FIELD_NAMES)
        else:
            return Redirect(path=f"/behov/{need.id}", status_code=303)
    return _need_form_page(visitor, None, dict(form.form.items()), form, status=422)


def _unnested(errors: list[FieldError]) -> list[FieldError]:
    """Errors of a split need name its fields under `need.`; the form has them at the top."""
    return [FieldError(e.field.removeprefix("need."), e.reason) for e in errors]


async def _readable_need(db: Db, visitor: Visitor, need_id: int) -> Need:
    principal = visitor.reader()
    return await needs_service.read_need(db, principal, need_id)


def _manages(visitor: Visitor, need: Need) -> bool:
    """Its buyer (or an admin acting for it) manages a need; admins and presenters see it all."""
    effective = visitor.effective
    return visitor.sees_everything or (effective is not None and effective.id == need.buyer_id)


@get("/behov/{need_id:int}", name="web:need", include_in_schema=False)
async def need_page(visitor: VisitorDep, db: Db, need_id: PathId) -> Template:
    """A need's public facts; for its buyer also the live matches, answers and actions."""
    need = await _readable_need(db, visitor, need_id)
    manages = _manages(visitor, need)
    return page(
        visitor,
        "need.html",
        need=need,
        manages=manages,
        outcome=await outcomes_service.find_outcome(db, need_id),
        lots=await needs_service.lots_of(db, visitor.reader(), need),
        asf_answers=await outcomes_service.supplier_answers(db, need_id) if manages else [],
    )


@get("/behov/{need_id:int}/matchningar", name="web:need_matches", include_in_schema=False)
async def need_matches_fragment(
    visitor: VisitorDep, db: Db, state: State, need_id: PathId
) -> Template:
    """The ranked suppliers with their reasons (htmx polls this while ranking is pending)."""
    need = await _readable_need(db, visitor, need_id)
    if not _manages(visitor, need):
        raise PageError(403, "error.not_for_you")
    app = resources(state)
    body = await matches_service.need_matches(
        db, app.cache, app.settings.match_list_size, visitor.reader(), need_id
    )
    listing = _need_matches.decode(body)
    threshold = app.settings.notify_min_score
    interest = await notifications_service.need_interest(
        db, visitor.reader(), need_id, app.settings.lots_hint_too_large
    )
    answers = {item.supplier_id: item for item in interest.interested}
    strong = [m for m in listing.matches if m.score >= threshold]
    weak = [m for m in listing.matches if m.score < threshold]
    joint = await joint_bids_service.joint_bids(db, visitor.reader(), need_id)
    return page(
        visitor,
        "partials/need_matches.html",
        groups=joint.groups,
        need=need,
        listing=listing,
        strong=strong,
        weak=weak,
        threshold=threshold,
        interest=interest,
        answers=answers,
        reasons={m.supplier_id: explain(m.explanation, visitor.t) for m in listing.matches},
    )


@get("/behov/{need_id:int}/matchningar.csv", name="web:need_matches_csv", include_in_schema=False)
async def need_matches_csv(
    visitor: VisitorDep, db: Db, state: State, need_id: PathId
) -> Response[bytes]:
    """The match list as CSV (semicolons, UTF-8 with BOM: opens in Swedish Excel as it is)."""
    need = await _readable_need(db, visitor, need_id)
    if not _manages(visitor, need):
        raise PageError(403, "error.not_for_you")
    app = resources(state)
    body = await matches_service.need_matches(
        db, app.cache, app.settings.match_list_size, visitor.reader(), need_id
    )
    listing = _need_matches.decode(body)
    interest = await notifications_service.need_interest(db, visitor.reader(), need_id)
    answered = {item.supplier_id: item.reason for item in interest.interested}
    t = visitor.t
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([t(f"csv.{column}") for column in _CSV_COLUMNS])
    for match in listing.matches:
        writer.writerow(
            [
                match.rank,
                match.supplier_id,
                match.supplier_name,
                f"{match.score:.4f}",
                " | ".join(reason.text for reason in explain(match.explanation, t)),
                answered.get(match.supplier_id, ""),
            ]
        )
    return Response(
        ("\ufeff" + out.getvalue()).encode(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="behov-{need_id}-matchningar.csv"',
            "Cache-Control": "no-store",
        },
    )


_CSV_COLUMNS = ("rank", "supplier_id", "supplier", "score", "why", "interested")


@get("/behov/{need_id:int}/andra", name="web:need_edit", include_in_schema=False)
async def edit_need_page(visitor: VisitorDep, db: Db, need_id: PathId) -> Template:
    """The need form filled with the need's current values."""
    visitor.require("buyer")
    need = await _readable_need(db, visitor, need_id)
    if not _manages(visitor, need) or need.status in {"closed", "withdrawn"}:
        raise PageError(403, "error.not_for_you")
    return _need_form_page(visitor, need, _form_values(need), None)


@post("/behov/{need_id:int}/andra", name="web:need_update", include_in_schema=False)
async def update_need(
    request: Request[Any, Any, Any], visitor: VisitorDep, db: Db, need_id: PathId
) -> Template | Redirect:
    """Save changes; the need is ranked again."""
    visitor.require("buyer")
    need = await _readable_need(db, visitor, need_id)
    form = FormState(await checked_form(request, visitor))
    fields = read_need_form(form)
    if fields is not None:
        try:
            await needs_service.update_need(
                db,
                visitor.principal(),
                need_id,
                msgspec.convert(msgspec.to_builtins(fields), NeedUpdate),
            )
        except Invalid as error:
            form.add_server_errors(error.errors, FIELD_NAMES)
        else:
            return Redirect(path=f"/behov/{need_id}", status_code=303)
    return _need_form_page(visitor, need, dict(form.form.items()), form, status=422)


async def _end(
    request: Request[Any, Any, Any], visitor: Visitor, db: Db, need_id: int, status: str
) -> Redirect:
    visitor.require("buyer")
    await checked_form(request, visitor)
    try:
        await needs_service.end_need(db, visitor.principal(), need_id, status)  # type: ignore[arg-type]
    except Forbidden:
        raise PageError(403, "error.not_for_you") from None
    return Redirect(path=f"/behov/{need_id}", status_code=303)


@post("/behov/{need_id:int}/stang", name="web:need_close", include_in_schema=False)
async def close_need(
    request: Request[Any, Any, Any], visitor: VisitorDep, db: Db, need_id: PathId
) -> Redirect:
    """Close: the need has been procured."""
    return await _end(request, visitor, db, need_id, "closed")


@post("/behov/{need_id:int}/aterkalla", name="web:need_withdraw", include_in_schema=False)
async def withdraw_need(
    request: Request[Any, Any, Any], visitor: VisitorDep, db: Db, need_id: PathId
) -> Redirect:
    """Withdraw: the need is cancelled."""
    return await _end(request, visitor, db, need_id, "withdrawn")


HANDLERS = [
    my_needs,
    new_need_page,
    create_need,
    need_page,
    need_matches_fragment,
    need_matches_csv,
    edit_need_page,
    update_need,
    close_need,
    withdraw_need,
]
