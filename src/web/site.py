"""The pages as one Litestar router: handlers, the visitor dependency, HTML error pages."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, Router
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.response import Redirect

from asfmatch.api.errors import ApiError
from asfmatch.api.errors import handle_http as api_handle_http
from asfmatch.services.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    Unauthenticated,
)
from asfmatch.web import (
    admin_pages,
    buyer_pages,
    live_pages,
    outcome_pages,
    potential_panel,
    presenter_pages,
    public_pages,
    report_pages,
    signin_pages,
    signup_pages,
    supplier_pages,
)
from asfmatch.web.errors import PageError
from asfmatch.web.i18n import Translator, language_of
from asfmatch.web.rendering import page
from asfmatch.web.static_files import static_file
from asfmatch.web.visitor import LANGUAGE_COOKIE, Visitor, provide_visitor

log = logging.getLogger(__name__)

_STATUS_KEYS = {
    400: "error.bad_request",
    401: "error.sign_in_first",
    403: "error.not_for_you",
    404: "error.not_found",
    405: "error.bad_request",
    409: "error.conflict",
    410: "error.link_spent",
    413: "error.bad_request",
    422: "error.bad_request",
    429: "error.too_many",
}


def _bare_visitor(request: Request[Any, Any, Any]) -> Visitor:
    # The error page must render even when the failure came before the visitor was read.
    language = language_of(request.cookies.get(LANGUAGE_COOKIE))
    return Visitor(language=language, t=Translator(language), secure_cookies=False)


def _error_page(request: Request[Any, Any, Any], status: int, key: str, **params: object) -> Any:
    if status == 401:
        target = quote(request.url.path, safe="/")
        return Redirect(path=f"/logga-in?next={target}", status_code=303)
    visitor = _bare_visitor(request)
    return page(visitor, "error.html", status=status, key=key, params=params)


def handle_page_error(request: Request[Any, Any, Any], exc: PageError) -> Response[Any]:
    """A PageError as a page in the visitor's language."""
    result: Response[Any] = _error_page(request, exc.status, exc.key, **exc.params)
    return result


def handle_api_error(request: Request[Any, Any, Any], exc: ApiError) -> Response[Any]:
    """A service's refusal (403, 404, 409) as a page; its English detail is shown as given."""
    result: Response[Any] = _error_page(
        request, exc.status, _STATUS_KEYS.get(exc.status, "error.bad_request"), detail=exc.detail
    )
    return result


_DOMAIN_STATUS: dict[type[DomainError], int] = {
    Invalid: 422,
    NotFound: 404,
    Forbidden: 403,
    Conflict: 409,
    Unauthenticated: 401,
}


def handle_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    """A service's refusal the page did not expect as a page (forms catch `Invalid` first)."""
    status = next(code for kind, code in _DOMAIN_STATUS.items() if isinstance(exc, kind))
    result: Response[Any] = _error_page(
        request, status, _STATUS_KEYS.get(status, "error.bad_request"), detail=exc.detail
    )
    return result


def handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Framework errors (unknown page, bad parameter) as pages."""
    result: Response[Any] = _error_page(
        request, exc.status_code, _STATUS_KEYS.get(exc.status_code, "error.bad_request")
    )
    # A 405 page still names the allowed methods (Allow, RFC 9110).
    result.headers.update(exc.headers or {})
    return result


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A bug: logged in full, the visitor sees an apology."""
    log.exception("page failed: %s %s", request.method, request.url.path, exc_info=exc)
    result: Response[Any] = _error_page(request, 500, "error.internal")
    return result


def handle_http_outside_routes(
    request: Request[Any, Any, Any], exc: HTTPException
) -> Response[Any]:
    """App-level framework errors (an unknown path, a wrong method): a page for a browser
    path, the API's problem document under /api/, /schema and /health."""
    path = request.url.path
    if path.startswith(("/api/", "/schema", "/health")):
        return api_handle_http(request, exc)
    return handle_http(request, exc)


def web_router() -> Router:
    """Every page, sharing the visitor dependency and the HTML error pages."""
    return Router(
        path="/",
        route_handlers=[
            static_file,
            *public_pages.HANDLERS,
            *signin_pages.HANDLERS,
            *signup_pages.HANDLERS,
            *buyer_pages.HANDLERS,
            *potential_panel.HANDLERS,
            *supplier_pages.HANDLERS,
            *admin_pages.HANDLERS,
            *presenter_pages.HANDLERS,
            *live_pages.HANDLERS,
            *outcome_pages.HANDLERS,
            *report_pages.HANDLERS,
        ],
        dependencies={"visitor": Provide(provide_visitor)},
        exception_handlers={
            PageError: handle_page_error,
            ApiError: handle_api_error,
            DomainError: handle_domain_error,
            HTTPException: handle_http,
            Exception: handle_unexpected,
        },
        include_in_schema=False,
    )
