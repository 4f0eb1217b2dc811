"""Who is looking at a page: language, session, the organisation signed in (or acted for by an
admin), and the CSRF check every form goes through."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie, FormMultiDict, State
from litestar.di import NamedDependency

from asfmatch.api.state import Db, resources
from asfmatch.storage import organisations, web_sessions
from asfmatch.storage.organisations import Organisation, Principal
from asfmatch.storage.suppliers import Supplier, supplier_of_organisation
from asfmatch.storage.web_sessions import WebSession
from asfmatch.web.errors import PageError
from asfmatch.web.i18n import Language, Translator, language_of

SESSION_COOKIE = "asfm_session"
LANGUAGE_COOKIE = "asfm_lang"
# Before sign-in there is no session to hold a CSRF token: the sign-in form carries a token
# that must equal this cookie (double submit), so another site cannot sign a browser in.
PRESESSION_COOKIE = "asfm_pre"
CSRF_FIELD = "_csrf"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class Visitor:
    """The person behind a request, as the pages see them."""

    language: Language
    t: Translator
    secure_cookies: bool
    # The page's own path and query, for "switch language and come back here".
    path: str = "/"
    token: str | None = None
    session: WebSession | None = None
    # The signed-in organisation (for an admin: the admin organisation itself).
    organisation: Organisation | None = None
    # The organisation an admin acts for, if any.
    acting: Organisation | None = None
    supplier: Supplier | None = None
    presession: str | None = None

    @property
    def signed_in(self) -> bool:
        """True with a valid session."""
        return self.session is not None

    @property
    def role(self) -> str | None:
        """What the pages treat this visitor as: the acted-for organisation's kind for an admin
        acting for one, otherwise the session's role ('viewer' for a presenter)."""
        if self.session is None:
            return None
        if self.acting is not None:
            return self.acting.kind
        return self.session.role

    @property
    def is_admin(self) -> bool:
        """True for an admin session, acting for someone or not."""
        return self.session is not None and self.session.role == "admin"

    @property
    def sees_everything(self) -> bool:
        """Admins and presenters see every need's matches; only admins may change anything."""
        return self.session is not None and self.session.role in {"admin", "viewer"}

    @property
    def effective(self) -> Organisation | None:
        """The organisation whose pages these are (the acted-for one for an admin)."""
        return self.acting or self.organisation

    @property
    def csrf(self) -> str:
        """The token every form of this visitor must send back."""
        if self.session is not None:
            return self.session.csrf_token
        return self.presession or ""

    def principal(self) -> Principal:
        """The caller the services see: the acted-for organisation when an admin acts for one."""
        if self.session is None or self.session.role == "viewer":
            raise PageError(403, "error.read_only")
        organisation = self.effective
        assert organisation is not None
        return Principal(organisation_id=organisation.id, role=organisation.kind, key_id=0)

    def reader(self) -> Principal | None:
        """The caller for reads: a presenter reads as an admin would (it sees everything; the
        pages never hand this principal to a write)."""
        if self.session is not None and self.session.role == "viewer":
            return Principal(organisation_id=0, role="admin", key_id=0)
        return None if self.session is None else self.principal()

    def require(self, *roles: str) -> None:
        """Sign-in wall: 401 page when signed out, 403 page when the role does not fit."""
        if self.session is None:
            raise PageError(401, "error.sign_in_first")
        if self.role not in roles:
            raise PageError(403, "error.not_for_you")

    def cookie(self, key: str, value: str, max_age: int | None) -> Cookie:
        """A cookie scripts cannot read, sent only to this site (Lax: links from e-mail work)."""
        return Cookie(
            key=key,
            value=value,
            max_age=max_age,
            path="/",
            httponly=True,
            samesite="lax",
            secure=self.secure_cookies,
        )


async def provide_visitor(request: Request[Any, Any, Any], state: State, db: Db) -> Visitor:
    """Read the language and session cookies; an unknown or expired session counts as none."""
    settings = resources(state).settings
    language = language_of(request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE))
    query = request.url.query
    base = Visitor(
        language=language,
        t=Translator(language),
        secure_cookies=settings.public_url.startswith("https://"),
        path=request.url.path + (f"?{query}" if query else ""),
        presession=request.cookies.get(PRESESSION_COOKIE),
    )
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return base
    session = await web_sessions.find_session(db, token)
    if session is None:
        return base
    organisation = (
        None
        if session.organisation_id is None
        else await organisations.get_organisation(db, session.organisation_id)
    )
    acting = (
        None
        if session.acting_for is None
        else await organisations.get_organisation(db, session.acting_for)
    )
    effective = acting or organisation
    supplier = (
        await supplier_of_organisation(db, effective.id)
        if effective is not None and effective.kind == "supplier"
        else None
    )
    return Visitor(
        language=language,
        t=base.t,
        secure_cookies=base.secure_cookies,
        path=base.path,
        token=token,
        session=session,
        organisation=organisation,
        acting=acting,
        supplier=supplier,
        presession=base.presession,
    )


def new_presession_token() -> str:
    """A random token for the sign-in form's double-submit cookie."""
    return secrets.token_urlsafe(24)


async def checked_form(request: Request[Any, Any, Any], visitor: Visitor) -> FormMultiDict:
    """The posted form, after its CSRF token (field or header) matched the visitor's; 403 if not."""
    form = await request.form()
    sent = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD) or ""
    expected = visitor.csrf
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise PageError(403, "error.csrf")
    return form


VisitorDep = NamedDependency[Visitor]
