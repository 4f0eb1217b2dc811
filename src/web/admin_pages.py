"""An admin's page: every organisation, act for one, make a one-time sign-in link, reset the
demo between talks."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.datastructures import State
from litestar.response import Redirect, Template

from asfmatch.api.schemas import PathId
from asfmatch.api.state import Db, resources
from asfmatch.services import demo as demo_service
from asfmatch.services import organisations as organisations_service
from asfmatch.services import sessions as sessions_service
from asfmatch.services import signup as signup_service
from asfmatch.storage.organisations import Principal
from asfmatch.web.errors import PageError
from asfmatch.web.rendering import page
from asfmatch.web.visitor import Visitor, VisitorDep, checked_form


def _admin(visitor: Visitor) -> Principal:
    """The admin itself (not whom it acts for): only admins manage sessions and the demo."""
    if not visitor.is_admin or visitor.organisation is None:
        raise PageError(403 if visitor.signed_in else 401, "error.not_for_you")
    return Principal(organisation_id=visitor.organisation.id, role="admin", key_id=0)


async def _admin_page(
    visitor: Visitor, db: Db, link: tuple[str, str] | None = None, reset: int | None = None
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
    )


@get("/admin", name="web:admin", include_in_schema=False)
async def admin_page(visitor: VisitorDep, db: Db) -> Template:
    """Organisations with "act for" and "sign-in link" buttons."""
    return await _admin_page(visitor, db)


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
    return await _admin_page(visitor, db, link=(organisation.name, f"{base}/logga-in/lank/{token}"))


@post("/admin/aterstall-demo", name="web:demo_reset", include_in_schema=False)
async def reset_demo(request: Request[Any, Any, Any], visitor: VisitorDep, db: Db) -> Template:
    """Remove what the audience posted since the demo data was loaded."""
    principal = _admin(visitor)
    await checked_form(request, visitor)
    removed = await demo_service.reset_demo(db, principal)
    return await _admin_page(visitor, db, reset=removed)


@post("/admin/godkann/{organisation_id:int}", name="web:approve", include_in_schema=False)
async def approve(
    request: Request[Any, Any, Any], visitor: VisitorDep, db: Db, organisation_id: PathId
) -> Redirect:
    """Let a self-registered organisation reach people (its ASF profile goes live)."""
    principal = _admin(visitor)
    await checked_form(request, visitor)
    await signup_service.approve(db, principal, organisation_id)
    return Redirect(path="/admin", status_code=303)


HANDLERS = [admin_page, act_for, stop_acting, make_signin_link, reset_demo, approve]
