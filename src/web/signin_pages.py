"""Sign-in with an API key or a one-time link, sign-out, and the presenter's read-only link."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from asfmatch.api.state import Db
from asfmatch.services import sessions as sessions_service
from asfmatch.storage.web_sessions import SESSION_LIFETIME
from asfmatch.web.errors import PageError
from asfmatch.web.forms import FormState
from asfmatch.web.rendering import page
from asfmatch.web.visitor import (
    PRESESSION_COOKIE,
    SESSION_COOKIE,
    Visitor,
    VisitorDep,
    checked_form,
    new_presession_token,
)

NextPath = Annotated[str, QueryParameter(name="next", max_length=500, required=False)]


def safe_next(path: str | None) -> str:
    """A local path to return to after sign-in; anything else (other sites) goes home."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return "/"


def home_of(role: str | None) -> str:
    """Where each kind of visitor starts after signing in."""
    return {
        "buyer": "/mina-behov",
        "supplier": "/inkorg",
        "admin": "/admin",
        "viewer": "/presentation",
    }.get(role or "", "/")


def _signed_in(visitor: VisitorDep, token: str, target: str) -> Redirect:
    return Redirect(
        path=target,
        status_code=303,
        cookies=[
            visitor.cookie(SESSION_COOKIE, token, int(SESSION_LIFETIME.total_seconds())),
            visitor.cookie(PRESESSION_COOKIE, "", 0),
        ],
    )


@get("/logga-in", name="web:signin", include_in_schema=False)
async def signin_page(visitor: VisitorDep, next_path: NextPath = "/") -> Template:
    """The sign-in form; it carries a fresh double-submit token."""
    token = visitor.presession or new_presession_token()
    shown = Visitor(**{**visitor.__dict__, "presession": token})
    return page(
        shown,
        "signin.html",
        next_path=safe_next(next_path),
        state=None,
        cookies=[visitor.cookie(PRESESSION_COOKIE, token, 3600)],
    )


@post("/logga-in", name="web:signin_post", include_in_schema=False)
async def signin(
    request: Request[Any, Any, Any], visitor: VisitorDep, db: Db
) -> Template | Redirect:
    """Trade an API key for a session cookie; the key itself is not kept in the browser."""
    form = FormState(await checked_form(request, visitor))
    key = form.raw("api_key")
    opened = await sessions_service.sign_in_with_key(db, key[:200])
    if opened is None:
        form.fail("api_key", "unknown_key" if key else "required")
        return page(
            visitor, "signin.html", status=422, next_path=safe_next(form.raw("next")), state=form
        )
    token, role = opened
    wanted = safe_next(form.raw("next"))
    return _signed_in(visitor, token, wanted if wanted != "/" else home_of(role))


@get("/logga-in/lank/{token:str}", name="web:signin_link", include_in_schema=False)
async def signin_with_link(visitor: VisitorDep, db: Db, token: FromPath[str]) -> Redirect:
    """A one-time link from an admin, or the presenter's read-only link, opens a session."""
    opened = await sessions_service.sign_in_with_link(db, token[:100])
    if opened is None:
        raise PageError(410, "error.link_spent")
    session_token, role = opened
    return _signed_in(visitor, session_token, home_of(role))


@post("/logga-ut", name="web:signout", include_in_schema=False)
async def signout(request: Request[Any, Any, Any], visitor: VisitorDep, db: Db) -> Redirect:
    """End the session everywhere it is used."""
    await checked_form(request, visitor)
    if visitor.token is not None:
        await sessions_service.sign_out(db, visitor.token)
    return Redirect(path="/", status_code=303, cookies=[visitor.cookie(SESSION_COOKIE, "", 0)])


HANDLERS = [signin_page, signin, signin_with_link, signout]
