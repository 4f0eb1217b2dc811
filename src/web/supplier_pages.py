"""An ASF's pages: the inbox with live arrivals and answer buttons, the profile, webhooks."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.datastructures import State
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from asfmatch.api.schemas import PathId
from asfmatch.api.state import Db, resources
from asfmatch.reference.regions import WHOLE_COUNTRY, lan
from asfmatch.services import notifications as notifications_service
from asfmatch.services import suppliers as suppliers_service
from asfmatch.services import webhooks as webhooks_service
from asfmatch.services.errors import Conflict, Invalid
from asfmatch.services.fields import Count, Description, Email, Sek, Share
from asfmatch.services.notifications import Answer, PreferencesUpdate
from asfmatch.services.suppliers import SupplierUpdate
from asfmatch.services.webhooks import EndpointCreate
from asfmatch.storage import signups
from asfmatch.storage.notifications import CHANNELS, DECLINE_REASONS
from asfmatch.storage.suppliers import Supplier
from asfmatch.web.errors import PageError
from asfmatch.web.forms import FormState
from asfmatch.web.rendering import cpv_label, kommun_name, page
from asfmatch.web.visitor import Visitor, VisitorDep, checked_form

INBOX_SIZE = 30
CPV_FIELDS = ["cpv_1", "cpv_2", "cpv_3", "cpv_4", "cpv_5"]
CRITERIA = [
    "work_integration_aim",
    "employee_participation",
    "profits_reinvested",
    "independent_of_public_sector",
]
PROFILE_FIELD_NAMES = {
    "description": "description",
    "home_kommun": "home_kommun",
    "cpv_codes": "cpv_1",
    "service_area": "service_lan",
    "employees": "employees",
    "target_group_share": "target_group_share",
    "max_contract_value_sek": "max_contract_value_sek",
    "training_places": "training_places",
    "contact_email": "contact_email",
    "active": "active",
}


def _own_supplier(visitor: Visitor) -> Supplier:
    visitor.require("supplier")
    if visitor.supplier is None:
        raise PageError(404, "error.no_profile")
    return visitor.supplier


async def _inbox(
    visitor: Visitor,
    db: Db,
    supplier: Supplier,
    status: int = 200,
    errors: dict[str, dict[str, str]] | None = None,
    values: dict[str, dict[str, str]] | None = None,
) -> Template:
    found = await notifications_service.inbox(
        db, visitor.principal(), supplier.id, unread_only=False, page=1, page_size=INBOX_SIZE
    )
    latest = max((item.id for item in found.items), default=0)
    return page(
        visitor,
        "inbox.html",
        status=status,
        inbox=found,
        latest=latest,
        supplier=supplier,
        decline_reasons=DECLINE_REASONS,
        answer_errors=errors,
        answer_values=values,
    )


@get("/inkorg", name="web:inbox", include_in_schema=False)
async def inbox_page(visitor: VisitorDep, db: Db) -> Template:
    """Notifications, newest first, each need with interested / not interested (and why)."""
    return await _inbox(visitor, db, _own_supplier(visitor))


@get("/inkorg/nya", name="web:inbox_new", include_in_schema=False)
async def inbox_news(visitor: VisitorDep, db: Db, efter: FromQuery[int] = 0) -> Template:
    """What arrived after `efter`: new cards and the element the live stream refreshes next."""
    supplier = _own_supplier(visitor)
    found = await notifications_service.inbox(
        db, visitor.principal(), supplier.id, unread_only=False, page=1, page_size=INBOX_SIZE
    )
    fresh = [item for item in found.items if item.id > efter]
    latest = max((item.id for item in fresh), default=efter)
    return page(
        visitor,
        "partials/inbox_news.html",
        fresh=fresh,
        latest=latest,
        supplier=supplier,
        decline_reasons=DECLINE_REASONS,
    )


@post("/inkorg/{notification_id:int}/svar", name="web:answer", include_in_schema=False)
async def answer(
    request: Request[Any, Any, Any], visitor: VisitorDep, db: Db, notification_id: PathId
) -> Template | Redirect:
    """Interested, or not and why (from the list; "other" needs a text); the buyer sees the
    answers counted on the need's page. Errors show next to the fields of that one form."""
    supplier = _own_supplier(visitor)
    form = FormState(await checked_form(request, visitor))
    interest = form.raw("interest")
    need_id = form.raw("need_id")
    code = form.raw("reason_code") or None
    if (
        interest not in {"interested", "not_interested"}
        or not need_id.isdigit()
        or (code is not None and code not in DECLINE_REASONS)
    ):
        raise PageError(400, "error.bad_request")
    reason = form.text("reason", notifications_service.Reason, required=False) or ""
    key = f"{notification_id}-{need_id}"
    errors = {
        error.field: visitor.t(f"form.error.{error.key}", **error.params) for error in form.errors
    }
    if not errors:
        try:
            await notifications_service.answer(
                db,
                visitor.principal(),
                supplier.id,
                notification_id,
                Answer(
                    interest=interest,  # type: ignore[arg-type]
                    # A reason picked before clicking "interested" is not held against anyone.
                    reason_code=code if interest == "not_interested" else None,
                    reason=reason,
                    need_id=int(need_id),
                ),
            )
        except Conflict:
            raise PageError(409, "error.need_not_open") from None
        except Invalid as error:
            errors = {e.field: visitor.t(f"answer.error.{e.field}") for e in error.errors}
    htmx = bool(request.headers.get("hx-request"))
    if errors:
        values = {key: {"reason_code": code or "", "reason": form.raw("reason")}}
        if not htmx:
            return await _inbox(visitor, db, supplier, 422, {key: errors}, values)
        notification = await notifications_service.read_notification(
            db, visitor.principal(), supplier.id, notification_id
        )
        # htmx swaps only 2xx answers: the card comes back with its errors, as a 200.
        return page(
            visitor,
            "partials/notification.html",
            item=notification,
            decline_reasons=DECLINE_REASONS,
            answer_errors={key: errors},
            answer_values=values,
        )
    notification = await notifications_service.read_notification(
        db, visitor.principal(), supplier.id, notification_id
    )
    if htmx:
        return page(
            visitor,
            "partials/notification.html",
            item=notification,
            decline_reasons=DECLINE_REASONS,
        )
    return Redirect(path="/inkorg", status_code=303)


def _profile_values(supplier: Supplier) -> dict[str, Any]:
    values: dict[str, Any] = {
        "description": supplier.description,
        "home_kommun": kommun_name(supplier.home_kommun) if supplier.home_kommun else "",
        "employees": str(supplier.employees),
        "target_group_share": str(round(supplier.target_group_share * 100)),
        "max_contract_value_sek": ""
        if supplier.max_contract_value_sek is None
        else str(supplier.max_contract_value_sek),
        "training_places": str(supplier.training_places),
        "contact_email": supplier.contact_email or "",
        "service_kommuner": ", ".join(
            kommun_name(code) for code in supplier.service_area if len(code) == 4
        ),
    }
    for name, code in zip(CPV_FIELDS, supplier.cpv_codes, strict=False):
        values[name] = f"{code} {cpv_label(code, 'sv')}"
    for criterion in CRITERIA:
        values[criterion] = "on" if getattr(supplier, criterion) else ""
    values["active"] = "on" if supplier.active else ""
    values["joint_bids"] = "on" if supplier.joint_bids else ""
    return values


def _profile_page(
    visitor: Visitor,
    supplier: Supplier,
    values: dict[str, Any],
    area: set[str],
    state: FormState | None,
    status: int = 200,
    saved: bool = False,
    pending: bool = False,
) -> Template:
    return page(
        visitor,
        "profile.html",
        status=status,
        pending=pending,
        supplier=supplier,
        values=values,
        area=area,
        state=state,
        saved=saved,
        cpv_fields=CPV_FIELDS,
        criteria=CRITERIA,
        whole_country=WHOLE_COUNTRY,
    )


@get("/profil", name="web:profile", include_in_schema=False)
async def profile_page(visitor: VisitorDep, db: Db, saved: FromQuery[bool] = False) -> Template:
    """The profile form with the current values; the service area as län boxes and kommuner."""
    supplier = _own_supplier(visitor)
    area = {code for code in supplier.service_area if len(code) != 4}
    pending = await signups.is_pending(db, supplier.organisation_id)
    return _profile_page(
        visitor, supplier, _profile_values(supplier), area, None, saved=saved, pending=pending
    )


def read_profile_form(form: FormState) -> SupplierUpdate | None:
    """Every profile field checked with the API's types; None if any failed."""
    description = form.text("description", Description, required=True)
    home = form.raw("home_kommun")
    home_kommun = form.kommun("home_kommun") if home else None
    cpv_codes = form.cpv_codes(CPV_FIELDS)
    area = [
        code
        for code in form.form.getall("service_lan", [])
        if code in lan() or code == WHOLE_COUNTRY
    ]
    for name in (n.strip() for n in form.raw("service_kommuner").split(",")):
        if name:
            code = form.kommun_named("service_kommuner", name)
            if code is not None and code not in area:
                area.append(code)
    if not area:
        form.fail("service_lan", "area_required")
    employees = form.whole_number("employees", Count)
    share_percent = form.whole_number("target_group_share", Count)
    share = None
    if share_percent is not None:
        share = form.typed("target_group_share", Share, share_percent / 100)
    max_value = form.whole_number("max_contract_value_sek", Sek)
    places = form.whole_number("training_places", Count) or 0
    email = form.text("contact_email", Email, required=False) or None
    if employees is None:
        form.fail("employees", "required")
    if share_percent is None:
        form.fail("target_group_share", "required")
    if form.errors or description is None or employees is None or share is None:
        return None
    return SupplierUpdate(
        description=description,
        home_kommun=home_kommun,
        cpv_codes=cpv_codes,
        service_area=area,
        employees=employees,
        target_group_share=share,
        max_contract_value_sek=max_value,
        training_places=places,
        contact_email=email,
        active=form.checkbox("active"),
        joint_bids=form.checkbox("joint_bids"),
        **{criterion: form.checkbox(criterion) for criterion in CRITERIA},  # type: ignore[arg-type]
    )


@post("/profil", name="web:profile_save", include_in_schema=False)
async def save_profile(
    request: Request[Any, Any, Any], visitor: VisitorDep, db: Db
) -> Template | Redirect:
    """Save the profile; its match lists are recomputed by the worker."""
    supplier = _own_supplier(visitor)
    form = FormState(await checked_form(request, visitor))
    update = read_profile_form(form)
    if update is not None:
        if update.target_group_share == round(supplier.target_group_share * 100) / 100:
            # The form shows whole percent: a verified 35.5 % comes back as 36 unchanged by
            # anyone, and must not count as an edit (it would lapse the verification).
            update = msgspec.structs.replace(update, target_group_share=supplier.target_group_share)
        try:
            await suppliers_service.update_supplier(db, visitor.principal(), supplier.id, update)
        except Invalid as error:
            form.add_server_errors(error.errors, PROFILE_FIELD_NAMES)
        else:
            return Redirect(path="/profil?saved=true", status_code=303)
    values: dict[str, Any] = dict(form.form.items())
    area = set(form.form.getall("service_lan", []))
    pending = await signups.is_pending(db, supplier.organisation_id)
    return _profile_page(visitor, supplier, values, area, form, status=422, pending=pending)


@get("/webhooks", name="web:webhooks", include_in_schema=False)
async def webhooks_page(visitor: VisitorDep, db: Db) -> Template:
    """Registered endpoints with their delivery logs, a form to add one, test buttons."""
    supplier = _own_supplier(visitor)
    return await _webhooks_page(visitor, db, supplier, None, None)


async def _webhooks_page(
    visitor: Visitor,
    db: Db,
    supplier: Supplier,
    state: FormState | None,
    secret: str | None,
    status: int = 200,
    notice: str | None = None,
) -> Template:
    endpoints = await webhooks_service.list_endpoints(db, visitor.principal(), supplier.id)
    logs = {
        endpoint.id: (
            await webhooks_service.deliveries(
                db, visitor.principal(), supplier.id, endpoint.id, page=1, page_size=10
            )
        ).items
        for endpoint in endpoints
    }
    return page(
        visitor,
        "webhooks.html",
        status=status,
        endpoints=endpoints,
        logs=logs,
        state=state,
        secret=secret,
        notice=notice,
        values=dict(state.form.items()) if state else {},
    )


@post("/webhooks", name="web:webhook_create", include_in_schema=False)
async def create_webhook(
    request: Request[Any, Any, Any], visitor: VisitorDep, db: Db, state: State
) -> Template:
    """Register an endpoint; its signing secret is shown this once."""
    supplier = _own_supplier(visitor)
    form = FormState(await checked_form(request, visitor))
    url = form.raw("url")
    if not url:
        form.fail("url", "required")
    description = form.raw("description")[:200]
    if not form.errors:
        try:
            created = await webhooks_service.create_endpoint(
                db,
                resources(state).settings,
                visitor.principal(),
                supplier.id,
                msgspec.convert({"url": url, "description": description}, EndpointCreate),
            )
        except (Invalid, Conflict) as error:
            form.add_server_errors(error.errors or [], {"url": "url"})
            if not error.errors:
                form.fail("url", "server", reason=error.detail)
        except msgspec.ValidationError:
            form.fail("url", "bad_url")
        else:
            return await _webhooks_page(visitor, db, supplier, None, created.secret)
    return await _webhooks_page(visitor, db, supplier, form, None, status=422)


@post("/webhooks/{endpoint_id:int}/test", name="web:webhook_test", include_in_schema=False)
async def test_webhook(
    request: Request[Any, Any, Any],
    visitor: VisitorDep,
    db: Db,
    state: State,
    endpoint_id: PathId,
) -> Template:
    """Queue a webhook.test event; its delivery shows in the log."""
    supplier = _own_supplier(visitor)
    await checked_form(request, visitor)
    await webhooks_service.send_test(
        db, resources(state).settings, visitor.principal(), supplier.id, endpoint_id
    )
    return await _webhooks_page(visitor, db, supplier, None, None, notice="webhooks.test_queued")


@post("/webhooks/{endpoint_id:int}/ta-bort", name="web:webhook_delete", include_in_schema=False)
async def delete_webhook(
    request: Request[Any, Any, Any], visitor: VisitorDep, db: Db, endpoint_id: PathId
) -> Redirect:
    """Remove an endpoint and its log."""
    supplier = _own_supplier(visitor)
    await checked_form(request, visitor)
    await webhooks_service.remove_endpoint(db, visitor.principal(), supplier.id, endpoint_id)
    return Redirect(path="/webhooks", status_code=303)


_FREQUENCIES = ("immediate", "hourly", "daily", "weekly", "never")


async def _preferences_page(
    visitor: Visitor, db: Db, supplier: Supplier, saved: bool = False
) -> Template:
    preferences = await notifications_service.get_preferences(db, visitor.principal(), supplier.id)
    return page(
        visitor,
        "preferences.html",
        preferences=preferences,
        saved=saved,
        frequencies=_FREQUENCIES,
        channels=[channel for channel in CHANNELS if channel != "inbox"],
    )


@get("/profil/notiser", name="web:preferences", include_in_schema=False)
async def preferences_page(visitor: VisitorDep, db: Db) -> Template:
    """Which needs to be told about, how (live, webhook, e-mail) and how often by digest."""
    return await _preferences_page(visitor, db, _own_supplier(visitor))


@post("/profil/notiser", name="web:preferences_save", include_in_schema=False)
async def save_preferences(
    request: Request[Any, Any, Any], visitor: VisitorDep, db: Db
) -> Template:
    """Replace the preferences; blank lists mean "no restriction"."""
    supplier = _own_supplier(visitor)
    form = FormState(await checked_form(request, visitor))
    min_score = form.whole_number("min_score", Count) or 0
    frequency = form.raw("digest_frequency")
    update = PreferencesUpdate(
        min_score=min(min_score, 100) / 100,
        lan=[code for code in form.form.getall("lan", []) if code in lan()],
        channels=[channel for channel in CHANNELS if channel in form.form.getall("channels", [])],
        digest_frequency=frequency if frequency in _FREQUENCIES else "daily",  # type: ignore[arg-type]
    )
    await notifications_service.put_preferences(db, visitor.principal(), supplier.id, update)
    return await _preferences_page(visitor, db, supplier, saved=True)


HANDLERS = [
    inbox_page,
    inbox_news,
    answer,
    profile_page,
    save_profile,
    webhooks_page,
    create_webhook,
    test_webhook,
    delete_webhook,
    preferences_page,
    save_preferences,
]
