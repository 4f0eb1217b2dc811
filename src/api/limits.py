"""Request limits enforced before a handler runs: rate limits (shared through Redis) and the
JSON-only rule for bodies."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import msgspec
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, HTTPResponseStartEvent, Message, Receive, Scope, Send

from asfmatch.api.client_address import Network, client_address, parse_networks
from asfmatch.api.errors import PROBLEM_JSON, Problem
from asfmatch.api.state import (
    PREFETCHED,
    PREFETCHED_NEEDS,
    PRINCIPAL,
    Prefetched,
    PrefetchedNeeds,
    resources,
)
from asfmatch.storage.cache import RateLimitResult

_BODY_METHODS = {b"POST", b"PUT", b"PATCH"}


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return {bytes(name).lower(): bytes(value) for name, value in scope.get("headers", [])}


async def _reply(
    send: Send, status: int, title: str, detail: str, extra: list[tuple[bytes, bytes]]
) -> None:
    body = msgspec.json.encode(Problem(status=status, title=title, detail=detail))
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", PROBLEM_JSON.encode()),
            (b"content-length", str(len(body)).encode()),
            *extra,
        ],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _rate_headers(result: RateLimitResult, window: int) -> list[tuple[bytes, bytes]]:
    # The IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers), separate-field form.
    return [
        (b"ratelimit-limit", str(result.limit).encode()),
        (b"ratelimit-remaining", str(result.remaining).encode()),
        (b"ratelimit-reset", str(result.reset_seconds).encode()),
        (b"ratelimit-policy", f"{result.limit};w={window}".encode()),
    ]


class RequestLimits(ASGIMiddleware):
    """415 for a body that is not JSON; 429 with RateLimit headers past an organisation's or an
    address's limit. Counting happens in Redis, shared by every process; while Redis is down
    each process counts on its own, so the limits still hold (per process)."""

    scopes = (ScopeType.HTTP,)

    def __init__(self) -> None:
        self._parsed: tuple[tuple[str, ...], tuple[Network, ...]] = ((), ())

    def _proxies(self, configured: tuple[str, ...]) -> tuple[Network, ...]:
        if self._parsed[0] != configured:
            self._parsed = (configured, parse_networks(configured))
        return self._parsed[1]

    @staticmethod
    def should_bypass_for_scope(scope: Scope) -> bool:
        """Health checks and the API documentation are never limited."""
        path = str(scope.get("path", ""))
        return path in ("/health", "/ready") or path == "/schema" or path.startswith("/schema/")

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        headers = _headers(scope)
        method = str(scope.get("method", "GET")).encode()
        # The API speaks JSON; the pages post ordinary HTML forms.
        is_api = str(scope.get("path", "")).startswith("/api/")
        if is_api and method in _BODY_METHODS and _has_body(headers):
            content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
            if content_type != b"application/json" and not content_type.endswith(b"+json"):
                await _reply(
                    send, 415, "Unsupported media type", "send the body as application/json", []
                )
                return

        app = resources(scope["app"].state)
        limiter = app.limiter
        settings = app.settings
        client = scope.get("client")
        forwarded = headers.get(b"x-forwarded-for")
        address = client_address(
            client[0] if client else None,
            forwarded.decode("latin-1") if forwarded else None,
            self._proxies(settings.trusted_proxies),
        )
        token = _bearer(headers)
        limits = [(f"addr:{address}", settings.rate_limit_per_address)]
        if token is not None:
            # Authenticated here, once, from memory (api/principals.py); the guard and the
            # `principal` dependency take it from the request's state.
            principal = await app.principals.principal(
                app.pool, token.decode("latin-1"), app.settings.db_acquire_timeout
            )
            scope.setdefault("state", {})[PRINCIPAL] = principal
            # Every key of an organisation counts together; a made-up key counts on its own
            # (and meets the address limit).
            bucket = (
                f"org:{principal.organisation_id}"
                if principal is not None
                else f"key:{hashlib.sha256(token).hexdigest()[:32]}"
            )
            limits.append((bucket, settings.rate_limit_per_organisation))
        # Both limits in one Redis round trip; past the address limit the caller's is not counted.
        # A match list's cache entry (or the needs list's counter and page) comes along in the
        # same call, with Redis's clock: api/matches.py and api/needs.py serve them when
        # storage.list_versions trusts them.
        wanted = _cached_list(scope) if token is not None else None
        listing = _needs_list_query(scope) if token is None else None
        prefetch: list[str] = []
        if wanted is not None:
            prefetch.append(app.cache.key(*wanted))
        elif listing is not None:
            prefetch += [app.needs_list.counter_key, app.needs_list.entry_key(listing)]
        generation = app.lists.generation
        counted, fetched = await limiter.hit_all(limits, prefetch)
        if fetched is not None:
            app.lists.observe(fetched.stamp, generation)
            state = scope.setdefault("state", {})
            if wanted is not None:
                state[PREFETCHED] = Prefetched(
                    owner=wanted[0],
                    owner_id=wanted[1],
                    entry=fetched.values[0],
                    stamp=fetched.stamp,
                )
            elif listing is not None:
                state[PREFETCHED_NEEDS] = PrefetchedNeeds(
                    query_string=listing,
                    counter=fetched.values[0],
                    entry=fetched.values[1],
                    stamp=fetched.stamp,
                )
        result = counted[0]
        if len(counted) > 1:
            by_caller = counted[1]
            # Report whichever limit binds: the one exceeded, else the one with less left.
            if not by_caller.allowed or by_caller.remaining < result.remaining:
                result = by_caller
        extra = _rate_headers(result, limiter.window)
        if not result.allowed:
            await _reply(
                send,
                429,
                "Too many requests",
                f"limit of {result.limit} requests per {limiter.window} s reached",
                [*extra, (b"retry-after", str(result.reset_seconds).encode())],
            )
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await next_app(scope, receive, send_with_headers)


_LIST_PATH = re.compile(r"/api/v1/(needs|suppliers)/([1-9][0-9]{0,18})/matches/?")
_OWNER = {"needs": "need", "suppliers": "supplier"}


def _cached_list(scope: Scope) -> tuple[str, int] | None:
    """("need" or "supplier", id) for a GET of a match list, the cached read."""
    if scope.get("method") != "GET":
        return None
    found = _LIST_PATH.fullmatch(str(scope.get("path", "")))
    return None if found is None else (_OWNER[found.group(1)], int(found.group(2)))


def _needs_list_query(scope: Scope) -> bytes | None:
    """The query string of an anonymous GET of the needs list, the cached public read."""
    if scope.get("method") != "GET" or str(scope.get("path", "")) not in _NEEDS_LIST_PATHS:
        return None
    return bytes(scope.get("query_string", b""))


_NEEDS_LIST_PATHS = {"/api/v1/needs", "/api/v1/needs/"}


def _has_body(headers: dict[bytes, bytes]) -> bool:
    length = headers.get(b"content-length")
    if length is not None:
        return length.strip() not in {b"", b"0"}
    return b"transfer-encoding" in headers


def _bearer(headers: dict[bytes, bytes]) -> bytes | None:
    value: Any = headers.get(b"authorization")
    if not value:
        return None
    scheme, _, token = bytes(value).partition(b" ")
    return token.strip() if scheme.lower() == b"bearer" and token.strip() else None
