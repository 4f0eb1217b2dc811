"""Authentication before validation: a protected route answers 401 to a request without a valid
key before its body is read, so an anonymous client learns nothing about the body's rules."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from asfmatch.api.errors import unauthorized
from asfmatch.api.state import PRINCIPAL, bearer_token, resources


async def requires_key(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """401 unless the request carries a known, unrevoked API key; the principal is kept in the
    request's state for the `principal` dependency. Roles are the services' business (403)."""
    token = bearer_token(connection)
    if token is None:
        raise unauthorized("this needs an API key (Authorization: Bearer …)")
    if PRINCIPAL in connection.state:
        # Already looked up by api.limits.RequestLimits (None: unknown or revoked).
        principal = connection.state[PRINCIPAL]
    else:
        app = resources(connection.app.state)
        principal = await app.principals.principal(app.pool, token, app.settings.db_acquire_timeout)
    if principal is None:
        raise unauthorized("unknown or revoked API key")
    connection.state[PRINCIPAL] = principal
