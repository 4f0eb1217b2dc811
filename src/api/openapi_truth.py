"""The OpenAPI document tells the whole truth: how to authenticate, and that every operation can
answer with a problem document (RFC 9457) for the errors any request may meet: a bad or missing
key, a rule broken, a limit reached, a server too slow to reach PostgreSQL."""

from __future__ import annotations

from litestar import Litestar
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    RequestBody,
    Schema,
    SecurityScheme,
)

from asfmatch.api.errors import PROBLEM_JSON

BEARER = "bearerAuth"
SECURITY_SCHEMES: dict[str, SecurityScheme | Reference] = {
    BEARER: SecurityScheme(
        type="http",
        scheme="bearer",
        description="An API key: `Authorization: Bearer asfm_…` (public reads need none).",
    )
}
# Every operation accepts a key; public reads also work without one.
SECURITY: list[dict[str, list[str]]] = [{BEARER: []}, {}]

_PROBLEM = Schema(
    type=OpenAPIType.OBJECT,
    required=["status", "title", "detail"],
    properties={
        "status": Schema(type=OpenAPIType.INTEGER),
        "title": Schema(type=OpenAPIType.STRING),
        "detail": Schema(type=OpenAPIType.STRING),
        "errors": Schema(
            type=OpenAPIType.ARRAY,
            items=Schema(
                type=OpenAPIType.OBJECT,
                required=["field", "reason"],
                properties={
                    "field": Schema(type=OpenAPIType.STRING),
                    "reason": Schema(type=OpenAPIType.STRING),
                },
            ),
        ),
    },
)

# Status codes any operation may answer, whatever its handler does.
ERRORS = {
    "400": "Malformed request (bad JSON, a parameter of the wrong type)",
    "401": "No key, or an unknown or revoked one, where a key is needed",
    "403": "The key's organisation may not do this",
    "404": "No such resource (or not visible to the caller)",
    "408": "The request's headers or body did not arrive in time",
    "409": "The request clashes with existing data",
    "413": "The body is larger than ASFMATCH_MAX_BODY_BYTES",
    "415": "The body is not JSON",
    "422": "A field breaks a rule; `errors` names each field and why",
    "429": "A rate limit or a stream cap is reached; see Retry-After",
    "503": "PostgreSQL is briefly unreachable; see Retry-After",
}


def openapi_components() -> Components:
    """Components to start the document from: the security scheme."""
    return Components(security_schemes=SECURITY_SCHEMES)


def document_errors(app: Litestar) -> None:
    """Add the problem responses to every operation (on startup, before the first request)."""
    document = app.openapi_schema
    # Litestar fills components.schemas with what the handlers name; the Problem joins them.
    document.components.schemas = {**(document.components.schemas or {}), "Problem": _PROBLEM}
    problem = OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))
    for item in (document.paths or {}).values():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(item, method, None)
            if operation is None:
                continue
            responses = operation.responses if operation.responses is not None else {}
            # Replaces Litestar's own 400 entry, which names plain JSON: ours are problems.
            for code, description in ERRORS.items():
                responses[code] = OpenAPIResponse(
                    description=description, content={PROBLEM_JSON: problem}
                )
            operation.responses = responses
            _optional_body(operation)


def _optional_body(operation: Operation) -> None:
    """A body typed `X | None` may be left out entirely: say so (Litestar marks it required)."""
    body = operation.request_body
    if not isinstance(body, RequestBody):
        return
    for media in (body.content or {}).values():
        schema = media.schema
        options = schema.one_of if isinstance(schema, Schema) else None
        if options and any(
            isinstance(option, Schema) and option.type == OpenAPIType.NULL for option in options
        ):
            body.required = False
