"""Self-service sign-up: a buyer or an ASF registers itself (an ASF with its first profile),
is signed in at once and sees its API key this one time. Against abuse: a per-address limit
per hour, the organisation number's check digit, and an admin's approval before the new
organisation reaches anyone (see services.signup)."""

from __future__ import annotations

from typing import Any, get_args

from litestar import Request, get, post
from litestar.datastructures import State
from litestar.response import Template

from asfmatch.api.client_address import client_address, parse_networks
from asfmatch.api.state import Db, resources
from asfmatch.reference.org_numbers import normalise_org_number
from asfmatch.reference.regions import WHOLE_COUNTRY
from asfmatch.services import sessions as sessions_service
from asfmatch.services import signup as signup_service
from asfmatch.services.errors import Conflict, Invalid
from asfmatch.services.fields import Email, LegalForm, Name
from asfmatch.services.suppliers import SupplierCreate
from asfmatch.storage import web_sessions
from asfmatch.storage.cache import RateLimiter, RedisGate
from asfmatch.storage.web_sessions import SESSION_LIFETIME
from asfmatch.web.forms import FormState
from asfmatch.web.rendering import page
from asfmatch.web.supplier_pages import CRITERIA, PROFILE_FIELD_NAMES, read_profile_form
from asfmatch.web.visitor import (
    PRESESSION_COOKIE,
    SESSION_COOKIE,
    Visitor,
    VisitorDep,
    checked_form,
    new_presession_token,
)

_FIELD_NAMES = {**PROFILE_FIELD_NAMES, "name": "name", "org_number": "org_number"}
_KINDS = ("buyer", "supplier")
LEGAL_FORMS: tuple[str, ...] = get_args(LegalForm)
# One limiter per Redis gate (per app), so its in-process fallback keeps counting.
_limiters: dict[int, RateLimiter] = {}


def _limiter(gate: RedisGate) -> RateLimiter:
    found = _limiters.get(id(gate))
    if found is None or found.gate is not gate:
        found = _limiters[id(gate)] = RateLimiter(gate, window_seconds=3600)
    return found


def _form_page(
    visitor: Visitor, values: dict[str, Any], state: FormState | None, status: int = 200
) -> Template:
    token = visitor.presession or new_presession_token()
    shown = Visitor(**{**visitor.__dict__, "presession": token})
    return page(
        shown,
        "signup.html",
        status=status,
        values=values,
        area=set(values.get("service_lan", [])),
        state=state,
        legal_forms=LEGAL_FORMS,
        criteria=CRITERIA,
        whole_country=WHOLE_COUNTRY,
        cookies=[visitor.cookie(PRESESSION_COOKIE, token, 3600)],
    )


@get("/registrera", name="web:signup", include_in_schema=False)
async def signup_page(visitor: VisitorDep) -> Template:
    """The sign-up form (buyer or ASF)."""
    return _form_page(visitor, {"kind": "supplier"}, None)


def _read(form: FormState) -> tuple[signup_service.SignUp | None, SupplierCreate | None]:
    """Check every field (the ASF's profile only for an ASF); (None, None) if any failed."""
    kind = form.raw("kind")
    if kind not in _KINDS:
        form.fail("kind", "required")
    name = form.text("name", Name, required=True)
    org_number = None
    raw_number = form.raw("org_number")
    if not raw_number:
        form.fail("org_number", "required")
    else:
        try:
            org_number = normalise_org_number(raw_number)
        except ValueError:
            form.fail("org_number", "bad_org_number")
    email = form.text("contact_email", Email, required=True)
    profile = None
    if kind == "supplier":
        legal_form = form.raw("legal_form")
        if legal_form not in LEGAL_FORMS:
            form.fail("legal_form", "required")
        update = read_profile_form(form)
        if update is not None and legal_form in LEGAL_FORMS:
            profile = SupplierCreate(
                name=name or "-",
                org_number=org_number or "-",
                legal_form=legal_form,  # type: ignore[arg-type]
                description=str(update.description),
                home_kommun=update.home_kommun,  # type: ignore[arg-type]
                cpv_codes=list(update.cpv_codes),  # type: ignore[arg-type]
                service_area=list(update.service_area),  # type: ignore[arg-type]
                employees=int(update.employees),  # type: ignore[arg-type]
                target_group_share=float(update.target_group_share),  # type: ignore[arg-type]
                training_places=int(update.training_places),  # type: ignore[arg-type]
                contact_email=email,
                active=False,
                **{c: bool(getattr(update, c)) for c in CRITERIA},
            )
    if form.errors or name is None or org_number is None or email is None:
        return None, None
    body = signup_service.SignUp(
        kind=kind,  # type: ignore[arg-type]
        name=name,
        org_number=org_number,
        contact_email=email,
    )
    return body, profile


@post("/registrera", name="web:signup_post", include_in_schema=False)
async def signup(
    request: Request[Any, Any, Any], visitor: VisitorDep, db: Db, state: State
) -> Template:
    """Register; on success sign in and show the key once, else every error by its field."""
    app = resources(state)
    form = FormState(await checked_form(request, visitor))
    values: dict[str, Any] = dict(form.form.items())
    values["service_lan"] = form.form.getall("service_lan", [])
    client = request.scope.get("client")
    address = client_address(
        client[0] if client else None,
        request.headers.get("x-forwarded-for"),
        parse_networks(app.settings.trusted_proxies),
    )
    counted = await _limiter(app.redis).hit(f"signup:{address}", app.settings.signups_per_hour)
    if not counted.allowed:
        form.fail("name", "too_many_signups")
        return _form_page(visitor, values, form, status=429)
    body, profile = _read(form)
    if body is not None:
        try:
            done = await signup_service.sign_up(db, body, profile)
        except Conflict:
            form.fail("org_number", "already_registered")
        except Invalid as error:
            form.add_server_errors(error.errors, _FIELD_NAMES)
        else:
            opened = await sessions_service.sign_in_with_key(db, done.key)
            assert opened is not None
            token, _ = opened
            # This page already shows the new session (the header's "signed in as", sign-out).
            signed_in = Visitor(
                **{
                    **visitor.__dict__,
                    "token": token,
                    "session": await web_sessions.find_session(db, token),
                    "organisation": done.organisation,
                }
            )
            shown = page(
                signed_in,
                "signed_up.html",
                organisation=done.organisation,
                key=done.key,
                cookies=[
                    visitor.cookie(SESSION_COOKIE, token, int(SESSION_LIFETIME.total_seconds())),
                    visitor.cookie(PRESESSION_COOKIE, "", 0),
                ],
            )
            # The key is on this page once: no cache may keep a copy.
            shown.headers = {**shown.headers, "Cache-Control": "no-store"}
            return shown
    return _form_page(visitor, values, form, status=422)


HANDLERS = [signup_page, signup]
