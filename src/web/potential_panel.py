"""The potential-and-advice panel of the need form: htmx posts the draft as the buyer types and
this answers with the numbers and the advice, worded from the catalogues."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.datastructures import State
from litestar.params import FromQuery
from litestar.response import Template

from asfmatch.api.state import Db, resources
from asfmatch.matching.advice import Advice, Reason
from asfmatch.reference.regions import kommuner
from asfmatch.services import potential as potential_service
from asfmatch.services.fields import Count, Sek
from asfmatch.services.potential import PotentialDraft, PotentialReport
from asfmatch.web.forms import FormState
from asfmatch.web.i18n import Translator
from asfmatch.web.rendering import page
from asfmatch.web.visitor import VisitorDep, checked_form

CPV_FIELDS = ("cpv_1", "cpv_2", "cpv_3")
# Relevant ASFs named in the panel; the counts cover all of them.
NAMED = 5


def _draft(form: FormState) -> PotentialDraft | None:
    """The draft as far as it can be read while it is typed: a half-typed CPV code or amount
    is left out rather than refused; None until a known kommun is given."""
    kommun = form.kommun("kommun")
    if kommun is None:
        return None
    codes = form.cpv_codes(list(CPV_FIELDS))
    value = form.whole_number("estimated_value_sek", Sek)
    places = form.whole_number("training_places", Count) or 0
    title = form.raw("title")[:200]
    description = form.raw("description")[:10000]
    return PotentialDraft(
        title=title,
        description=description,
        cpv_codes=codes,
        kommun=kommun,
        estimated_value_sek=value,
        training_places=places,
        reserved=form.checkbox("reserved"),
    )


def _what(t: Translator, value: int | None, places: int) -> str:
    if value is not None and places > 0:
        return t("advice.what.both", value=t.sek(value), places=t.count(places))
    if value is not None:
        return t.sek(value)
    if places > 0:
        return t("advice.what.places", places=t.count(places))
    return t("advice.what.contract")


def reason_text(reason: Reason, t: Translator) -> str:
    """One reason in the page's language, its amounts in kronor."""
    params: dict[str, object] = {}
    for name, value in reason.params.items():
        if name.endswith("_sek"):
            params[name.removesuffix("_sek")] = t.sek(value)
        else:
            # Written as numbers are, and choosing the singular or plural words beside it.
            params[name] = t.count(value)
    params["what"] = _what(t, reason.params.get("value_sek"), reason.params.get("places", 0))
    params["lot_what"] = _what(
        t, reason.params.get("lot_value_sek"), reason.params.get("lot_places", 0)
    )
    key = f"advice.reason.{reason.code}"
    return t(key, **params) if t.has(key) else reason.text


def advice_lines(advice: Advice, t: Translator) -> list[str]:
    """Every reason of an advice, worded for the page."""
    return [reason_text(reason, t) for reason in advice.reasons]


def _place_name(report: PotentialReport) -> str:
    entry = kommuner().get(report.place.code)
    return entry.name if entry is not None else report.place.code


@post("/behov/potential", name="web:need_potential", include_in_schema=False)
async def need_potential(
    request: Request[Any, Any, Any],
    visitor: VisitorDep,
    db: Db,
    state: State,
    ny: FromQuery[bool] = False,
) -> Template:
    """The panel for the draft in the posted form (CSRF checked like every form); on a new
    need (`ny`) with buttons that post it as advised."""
    visitor.require("buyer")
    form = FormState(await checked_form(request, visitor))
    draft = _draft(form)
    if draft is None:
        return page(visitor, "partials/need_potential.html", report=None)
    app = resources(state)
    report = await potential_service.potential(
        db, app.potential_index, visitor.principal(), draft, app.settings
    )
    return page(
        visitor,
        "partials/need_potential.html",
        report=report,
        place=_place_name(report),
        lines=advice_lines(report.advice, visitor.t),
        named=report.suppliers[:NAMED],
        new_need=ny,
        draft_reserved=draft.reserved,
    )


HANDLERS = [need_potential]
