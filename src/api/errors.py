"""Every error a client can cause is a 4xx problem document naming the field and the reason."""

from __future__ import annotations

import logging
import re
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from asfmatch.services.errors import (
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    Invalid,
    NotFound,
    Unauthenticated,
)
from asfmatch.services.validation import field_from_message
from asfmatch.storage.db import CONNECTION_LOST

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class Problem(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """RFC 9457 problem details, with the rejected fields listed in `errors`."""

    status: int
    title: str
    detail: str
    errors: list[FieldError] = []


class ApiError(Exception):
    """Raised by handlers to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}


# Litestar: "Missing required query parameter 'q' for path /api/v1/cpv".
_MISSING_PARAMETER = re.compile(r"Missing required \w+ parameter '([^']+)'")
_SECRET_HEADERS = {"authorization"}


def unauthorized(detail: str) -> ApiError:
    """401 with the challenge RFC 9110 requires, naming the scheme a client should use."""
    return ApiError(
        401, "Unauthorized", detail, headers={"WWW-Authenticate": 'Bearer realm="asf-match"'}
    )


def _validation_errors(exc: ValidationException) -> list[FieldError]:
    errors: list[FieldError] = []
    extra: Any = exc.extra
    for item in extra if isinstance(extra, list) else []:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "invalid value"))
        path, reason = field_from_message(message)
        key = str(item.get("key", "")) or None
        missing = _MISSING_PARAMETER.match(message)
        if missing:
            errors.append(FieldError(missing.group(1), "required parameter is missing"))
            continue
        if message == "'data'":
            errors.append(FieldError("body", "a JSON body is required"))
            continue
        # Litestar reports body fields as "data"; the client knows them by their own names.
        field = path or (None if key in {None, "data"} else key) or "body"
        errors.append(FieldError(field, reason))
    if not errors:
        detail = str(exc.detail or "invalid request")
        missing = _MISSING_PARAMETER.match(detail)
        if missing:
            errors.append(FieldError(missing.group(1), "required parameter is missing"))
        else:
            errors.append(FieldError("body", detail))
    return errors


def _problem(
    status: int, title: str, detail: str, errors: list[FieldError] | None = None
) -> Response[Problem]:
    return Response(
        Problem(status=status, title=title, detail=detail, errors=errors or []),
        status_code=status,
        media_type=PROBLEM_JSON,
    )


def handle_api_error(_: Request[Any, Any, Any], exc: ApiError) -> Response[Problem]:
    """Render an ApiError raised by a handler."""
    response = _problem(exc.status, exc.title, exc.detail, exc.errors)
    response.headers.update(exc.headers)
    return response


# Each domain error has one HTTP status; the services never see HTTP.
_DOMAIN_STATUS: dict[type[DomainError], int] = {
    Invalid: 422,
    NotFound: 404,
    Forbidden: 403,
    Conflict: 409,
    Unauthenticated: 401,
}


def handle_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Problem]:
    """A rule of the services refused the request: its problem document, in one place."""
    if isinstance(exc, Unauthenticated):
        return handle_api_error(request, unauthorized(exc.detail))
    status = next(code for kind, code in _DOMAIN_STATUS.items() if isinstance(exc, kind))
    return _problem(status, _TITLES[status], exc.detail, exc.errors)


def handle_validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    """Litestar's body/query decoding failures become 422s naming each field."""
    errors = _validation_errors(exc)
    return _problem(
        422, "Validation failed", "invalid value for: " + ", ".join(e.field for e in errors), errors
    )


def handle_http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    """Framework errors (404 route, 405, 413, malformed JSON, …) in the same shape as ours."""
    status = exc.status_code
    response = _problem(status, _TITLES.get(status, "Error"), str(exc.detail))
    # 405 carries Allow (RFC 9110), 401 its challenge: the framework's headers go along.
    response.headers.update(exc.headers or {})
    return response


def handle_nesting(_: Request[Any, Any, Any], exc: RecursionError) -> Response[Problem]:
    """JSON nested deeper than the decoder will follow is a malformed request, not our failure."""
    return _problem(400, "Bad request", "the JSON body is nested too deeply")


def handle_data_error(request: Request[Any, Any, Any], exc: asyncpg.DataError) -> Response[Problem]:
    """Backstop: a value the validation let through but PostgreSQL cannot store or compare
    (out of range, bad encoding). Still the client's input, so a 422, and logged as our gap."""
    log.warning("database refused input on %s %s: %s", request.method, request.url.path, exc)
    return _problem(422, "Validation failed", "a value is outside what the service can store")


# A PostgreSQL restart takes about a second; clients come back after it.
RETRY_AFTER_SECONDS = 2


def handle_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    """PostgreSQL is restarting or out of reach: not the client's fault and not a bug, so a 503
    the client may retry, and one log line rather than a traceback per request."""
    log.warning("database unavailable on %s %s: %r", request.method, request.url.path, exc)
    response = _problem(503, "Service unavailable", "the database is unavailable; retry shortly")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    """A bug, not the client's fault: log it in full, tell the client nothing internal."""
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _problem(
        HTTP_500_INTERNAL_SERVER_ERROR, "Internal error", "the server failed; it has been logged"
    )


_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Validation failed",
    429: "Too many requests",
    503: "Service unavailable",
}

EXCEPTION_HANDLERS = {
    ApiError: handle_api_error,
    DomainError: handle_domain_error,
    ValidationException: handle_validation,
    HTTPException: handle_http,
    RecursionError: handle_nesting,
    asyncpg.DataError: handle_data_error,
    **{kind: handle_unavailable for kind in CONNECTION_LOST},
    Exception: handle_unexpected,
}
