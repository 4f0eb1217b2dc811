"""An admin's page: every organisation, act for one, make a one-time sign-in link, reset the
demo between talks."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request, get, post
from litestar.datastructures import State
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from asfmatch.api.schemas import PathId
from asfmatch.api.state import Db, resources
from asfmatch.services import demo as demo_service
from asfmatch.services import organisations as organisations_service
from asfmatch.services import sessions as sessions_service
from asfmatch.services import signup as signup_service
from asfmatch.services import verifications as verifications_service
from asfmatch.services.errors import Invalid
from asfmatch.services.fields import Count, Share
from asfmatch.services.verifications import Note, VerificationCreate
from asfmatch.storage.organisations import Principal
from asfmatch.storage.suppliers import Supplier, supplier_of_organisation, swedish_today
from asfmatch.web.errors import PageError
from asfmatch.web.forms import FormState
from asfmatch.web.rendering import page
from asfmatch.web.visitor import Visitor, VisitorDep, checked_form

CRITERIA = [
    "work_integration_aim",
    "employee_participation",
    "profits_reinvested",
    "independent_of_public_sector",
]


def _admin(visitor: Visitor) -> Principal:
    """The admin itself (not whom it acts for): only admins manage sessions and the demo."""
    if not visitor.is_admin or visitor.organisation is None:
        raise PageError(403 if visitor.signed_in else 401, "error.not_for_you")
    return Principal(organisation_id=visitor.organisation.id, role="admin", key_id=0)


async def _admin_page(
    visitor: Visitor,
    db: Db,
    state: State,
    link: tuple[str, str] | None = None,
    reset: int | None = None,
) -> Template:
    found = await organisations_service.list_organisations(
        db, _admin(visitor), None, page=1, page_size=100
    )
    waiting = await signup_service.pending(db, _admin(visitor))
    return page(
        visitor,
        "admin.html",
        organisations=found.items,
        pending=waiting,
        link=link,
        reset=reset,
        # The reset wipes outcomes and verifications: offered only under `asfmatch demo`.
        demo=resources(state).settings.demo_mode,
    )


@get("/admin", name="web:admin", include_in_schema=False)
async def admin_page(visitor: VisitorDep, db: Db, state: State) -> Template:
    """Organisations with "act for" and "sign-in link" buttons."""
    return await _admin_page(visitor, db, state)


@post("/admin/agera/{organisation_id:int}", name="web:act_for", include_in_schema=False)
async def act_for(
    request: Request[Any, Any, Any], visitor: VisitorDep, db: Db, organisation_id: PathId
) -> Redirect:
    """Act for an organisation: its pages, its rights (until "stop acting")."""
    principal = _admin(visitor)
    await checked_form(request, visitor)
    assert visitor.token is not None
    await sessions_service.act_for(db, principal, visitor.token, organisation_id)
    organisation = await organisations_service.managed_organisation(db, principal, organisation_id)
    target = {"buyer": "/mina-behov", "supplier": "/inkorg"}.get(organisation.kind, "/admin")
    return Redirect(path=target, status_code=303)


@post("/admin/sluta-agera", name="web:stop_acting", include_in_schema=False)
async def stop_acting(request: Request[Any, Any, Any], visitor: VisitorDep, db: Db) -> Redirect:
    """Back to being the admin."""
    principal = _admin(visitor)
    await checked_form(request, visitor)
    assert visitor.token is not None
    await sessions_service.act_for(db, principal, visitor.token, None)
    return Redirect(path="/admin", status_code=303)


@post("/admin/lank/{organisation_id:int}", name="web:signin_link_create", include_in_schema=False)
async def make_signin_link(
    request: Request[Any, Any, Any],
    visitor: VisitorDep,
    db: Db,
    state: State,
    organisation_id: PathId,
) -> Template:
    """A one-time sign-in link for an organisation, shown once to pass on."""
    principal = _admin(visitor)
    await checked_form(request, visitor)
    organisation, token = await sessions_service.create_signin_link(db, principal, organisation_id)
    base = resources(state).settings.public_url.rstrip("/")
    return await _admin_page(
        visitor, db, state, link=(organisation.name, f"{base}/logga-in/lank/{token}")
    )


@post("/admin/aterstall-demo", name="web:demo_reset", include_in_schema=False)
async def reset_demo(
    request: Request[Any, Any, Any], visitor: VisitorDep, db: Db, state: State
) -> Template:
    """Remove what the audience did since the demo data was loaded (only under `asfmatch
    demo`: anywhere else it would delete real outcomes and verifications)."""
    principal = _admin(visitor)
    if not resources(state).settings.demo_mode:
        raise PageError(404, "error.not_found")
    await checked_form(request, visitor)
    removed = await demo_service.reset_demo(db, principal, resources(state).settings)
    return await _admin_page(visitor, db, state, reset=removed)


async def _verified_supplier(db: Db, organisation_id: int) -> Supplier:
    supplier = await supplier_of_organisation(db, organisation_id)
    if supplier is None:
        raise PageError(404, "error.no_profile")
    return supplier


async def _verify_page(
    visitor: Visitor,
    db: Db,
    state: State,
    organisation_id: int,
    values: dict[str, Any] | None = None,
    form: FormState | None = None,
    saved: bool = False,
) -> Template:
    principal = _admin(visitor)
    supplier = await _verified_supplier(db, organisation_id)
    history = await verifications_service.history(db, principal, supplier.id)
    if values is None:
        values = {
            "verified_on": swedish_today().isoformat(),
            "target_group_share": str(round(supplier.target_group_share * 100)),
            **{c: "on" for c in CRITERIA if getattr(supplier, c)},
        }
    assert visitor.organisation is not None
    return page(
        visitor,
        "verify.html",
        status=422 if form and form.errors else 200,
        supplier=supplier,
        organisation_id=organisation_id,
        history=history.items,
        values=values,
        state=form,
        saved=saved,
        criteria=CRITERIA,
        verifier=visitor.organisation.name,
        months=resources(state).settings.verification_valid_months,
    )


@get("/admin/verifiera/{organisation_id:int}", name="web:verify", include_in_schema=False)
async def verify_page(
    visitor: VisitorDep,
    db: Db,
    state: State,
    organisation_id: PathId,
    saved: FromQuery[bool] = False,
) -> Template:
    """The form a support body fills in after checking an ASF, and the ASF's history."""
    return await _verify_page(visitor, db, state, organisation_id, saved=saved)


@post("/admin/verifiera/{organisation_id:int}", name="web:verify_save", include_in_schema=False)
async def save_verification(
    request: Request[Any, Any, Any],
    visitor: VisitorDep,
    db: Db,
    state: State,
    organisation_id: PathId,
) -> Template | Redirect:
    """Record the verification in the admin's organisation's name."""
    principal = _admin(visitor)
    form = FormState(await checked_form(request, visitor))
    supplier = await _verified_supplier(db, organisation_id)
    day = form.raw("verified_on")
    verified_on = None
    if day:
        try:
            verified_on = date.fromisoformat(day)
        except ValueError:
            form.fail("verified_on", "not_a_date")
    percent = form.whole_number("target_group_share", Count)
    share = None
    if percent is None:
        if not any(error.field == "target_group_share" for error in form.errors):
            form.fail("target_group_share", "required")
    else:
        share = form.typed("target_group_share", Share, percent / 100)
    note = form.text("note", Note, required=True)
    if not form.errors and share is not None and note is not None:
        body = VerificationCreate(
            verified_on=verified_on,
            note=note,
            target_group_share=share,
            **{c: form.checkbox(c) for c in CRITERIA},
        )
        try:
            await verifications_service.record_verification(
                db, resources(state).settings, principal, supplier.id, body
            )
        except Invalid as error:
            form.add_server_errors(error.errors, {})
        else:
            return Redirect(path=f"/admin/verifiera/{organisation_id}?saved=true", status_code=303)
    values: dict[str, Any] = dict(form.form.items())
    return await _verify_page(visitor, db, state, organisation_id, values, form)


@post("/admin/godkann/{organisation_id:int}", name="web:approve", include_in_schema=False)
async def approve(
    request: Request[Any, Any, Any], visitor: VisitorDep, db: Db, organisation_id: PathId
) -> Redirect:
    """Let a self-registered organisation reach people (its ASF profile goes live)."""
    principal = _admin(visitor)
    await checked_form(request, visitor)
    await signup_service.approve(db, principal, organisation_id)
    return Redirect(path="/admin", status_code=303)


HANDLERS = [
    admin_page,
    act_for,
    stop_acting,
    make_signin_link,
    reset_demo,
    verify_page,
    save_verification,
    approve,
]
