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

from asfmatch.api.text import rule_reason

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class FieldError(msgspec.Struct, frozen=True):
    """One rejected field: its JSON path (`kommun`, `cpv_codes[2]`) and why."""

    field: str
    reason: str


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


class InvalidInput(ApiError):
    """422: the body or query parses but breaks a rule (unknown kommun, bad check digit, …)."""

    def __init__(self, errors: list[FieldError]) -> None:
        fields = ", ".join(error.field for error in errors)
        super().__init__(422, "Validation failed", f"invalid value for: {fields}", errors)


def not_found(what: str, ident: int | str) -> ApiError:
    """404 for an id that does not exist (or that the caller may not see)."""
    return ApiError(404, "Not found", f"no {what} with id {ident}")


def forbidden(detail: str) -> ApiError:
    """403: authenticated, but this organisation may not do that."""
    return ApiError(403, "Forbidden", detail)


def conflict(detail: str, field: str | None = None) -> ApiError:
    """409: the request clashes with existing data (duplicate org number, profile exists)."""
    errors = [FieldError(field, detail)] if field else []
    return ApiError(409, "Conflict", detail, errors)


_PATH = re.compile(r"`\$\.?([^`]*)`")
# Litestar: "Missing required query parameter 'q' for path /api/v1/cpv".
_MISSING_PARAMETER = re.compile(r"Missing required \w+ parameter '([^']+)'")
_SECRET_HEADERS = {"authorization"}


def unauthorized(detail: str) -> ApiError:
    """401 with the challenge RFC 9110 requires, naming the scheme a client should use."""
    return ApiError(
        401, "Unauthorized", detail, headers={"WWW-Authenticate": 'Bearer realm="asf-match"'}
    )


def _field_from_message(message: str) -> tuple[str | None, str]:
    """msgspec says "Expected `int`, got `str` - at `$.employees`"; split field from reason."""
    reason, _, where = message.partition(" - at ")
    found = _PATH.search(where) if where else None
    field = found.group(1) if found else None
    reason = rule_reason(reason) or reason
    if reason.startswith("Object missing required field"):
        missing = re.search(r"`([^`]+)`", reason)
        prefix = f"{field}." if field else ""
        return (prefix + missing.group(1) if missing else field), "required field is missing"
    if reason.startswith("Object contains unknown field"):
        unknown = re.search(r"`([^`]+)`", reason)
        prefix = f"{field}." if field else ""
        return (prefix + unknown.group(1) if unknown else field), "unknown field"
    return field, reason


def describe_decode_error(message: str, default_field: str = "body") -> FieldError:
    """A msgspec validation message as a FieldError."""
    field, reason = _field_from_message(message)
    return FieldError(field or default_field, reason)


def _validation_errors(exc: ValidationException) -> list[FieldError]:
    errors: list[FieldError] = []
    extra: Any = exc.extra
    for item in extra if isinstance(extra, list) else []:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "invalid value"))
        path, reason = _field_from_message(message)
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


def handle_validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    """Litestar's body/query decoding failures become 422s naming each field."""
    errors = _validation_errors(exc)
    return _problem(
        422, "Validation failed", "invalid value for: " + ", ".join(e.field for e in errors), errors
    )


def handle_http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    """Framework errors (404 route, 405, 413, malformed JSON, …) in the same shape as ours."""
    status = exc.status_code
    return _problem(status, _TITLES.get(status, "Error"), str(exc.detail))


def handle_nesting(_: Request[Any, Any, Any], exc: RecursionError) -> Response[Problem]:
    """JSON nested deeper than the decoder will follow is a malformed request, not our failure."""
    return _problem(400, "Bad request", "the JSON body is nested too deeply")


def handle_data_error(request: Request[Any, Any, Any], exc: asyncpg.DataError) -> Response[Problem]:
    """Backstop: a value the validation let through but PostgreSQL cannot store or compare
    (out of range, bad encoding). Still the client's input, so a 422, and logged as our gap."""
    log.warning("database refused input on %s %s: %s", request.method, request.url.path, exc)
    return _problem(422, "Validation failed", "a value is outside what the service can store")


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
    ValidationException: handle_validation,
    HTTPException: handle_http,
    RecursionError: handle_nesting,
    asyncpg.DataError: handle_data_error,
    Exception: handle_unexpected,
}
