"""OPTIONS answers with every method of the path in Allow. Litestar builds a path's OPTIONS
handler from the handlers registered with it first, so a path served by handlers registered
apart (a guarded POST beside a public GET) listed only some of its methods."""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Message, Receive, Scope, Send


class CompleteAllow(ASGIMiddleware):
    """Rewrites Allow on OPTIONS responses from the app's own routes."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope.get("method") != "OPTIONS":
            await next_app(scope, receive, send)
            return
        handler = scope.get("route_handler")
        paths = set(getattr(handler, "paths", ()) or ())
        methods: set[str] = set()
        for route in scope["app"].routes:
            if isinstance(route, HTTPRoute) and route.path in paths:
                methods |= set(route.methods)
        allow = ", ".join(sorted(methods)).encode()

        async def send_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and methods:
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if bytes(name).lower() != b"allow"
                ]
                message["headers"] = [*headers, (b"allow", allow)]
            await send(message)

        await next_app(scope, receive, send_allow)
