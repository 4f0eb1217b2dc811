"""Request limits enforced before a handler runs: rate limits (shared through Redis) and the
JSON-only rule for bodies; a request that passes them and is one of the hot cached reads is
answered here when a trusted cache entry can answer it (api/hot_reads.py), and a need's post
when the batching writer takes it as it is (api/hot_writes.py)."""

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
from asfmatch.api.hot_reads import cached_list_body, cached_page_body
from asfmatch.api.hot_writes import NEEDS_PATHS, posted_need_body, read_body
from asfmatch.api.state import (
    PREFETCHED,
    PREFETCHED_NEEDS,
    PRINCIPAL,
    AppResources,
    Prefetched,
    PrefetchedNeeds,
    resources,
)
from asfmatch.storage.cache import RateLimitResult, parse_list_entry

_BODY_METHODS = {b"POST", b"PUT", b"PATCH"}


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return {bytes(name).lower(): bytes(value) for name, value in scope.get("headers", [])}


async def _send(
    send: Send, status: int, media_type: bytes, body: bytes, extra: list[tuple[bytes, bytes]]
) -> None:
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", media_type),
            (b"content-length", str(len(body)).encode()),
            *extra,
        ],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _reply(
    send: Send, status: int, title: str, detail: str, extra: list[tuple[bytes, bytes]]
) -> None:
    body = msgspec.json.encode(Problem(status=status, title=title, detail=detail))
    await _send(send, status, PROBLEM_JSON.encode(), body, extra)


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
    address's limit. Counting happens in Redis, shared by every process, through leases of
    tokens (storage/rate_leases.py); while Redis is down each process counts on its own, so
    the limits still hold (per process). Hot cached reads and a need's plain post are answered
    without the handler."""

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
        # Both limits in at most one Redis round trip (none while this process holds leased
        # tokens for both); past the address limit the caller's is not counted. A match list's
        # cache entry (or the needs list's counter and page) comes from this process's memory
        # or along in the same call, with Redis's clock: api/matches.py and api/needs.py serve
        # them when storage.list_versions trusts them.
        wanted = _cached_list(scope) if token is not None else None
        listing = _needs_list_query(scope) if token is None else None
        lists = app.lists
        prefetch: list[str] = []
        state = scope.setdefault("state", {})
        if wanted is not None:
            remembered = lists.remembered_list(*wanted)
            if remembered is not None:
                state[PREFETCHED] = Prefetched(
                    owner=wanted[0], owner_id=wanted[1], found=remembered[0], stamp=remembered[1]
                )
            else:
                prefetch.append(app.cache.key(*wanted))
        elif listing is not None:
            page = lists.remembered_page(listing)
            if page is not None:
                state[PREFETCHED_NEEDS] = PrefetchedNeeds(
                    query_string=listing, counter=page[0], entry=page[1], stamp=page[2]
                )
            else:
                prefetch += [app.needs_list.counter_key, app.needs_list.entry_key(listing)]
        generation = lists.generation
        counted, fetched = await limiter.hit_all(limits, prefetch)
        if fetched is not None:
            lists.observe(fetched.stamp, generation)
        if fetched is not None and prefetch:
            if wanted is not None:
                found = parse_list_entry(fetched.values[0])
                lists.fetched_list(wanted[0], wanted[1], found, fetched.stamp)
                state[PREFETCHED] = Prefetched(
                    owner=wanted[0], owner_id=wanted[1], found=found, stamp=fetched.stamp
                )
            elif listing is not None:
                counter, entry = fetched.values
                lists.fetched_page(listing, counter, entry, fetched.stamp)
                state[PREFETCHED_NEEDS] = PrefetchedNeeds(
                    query_string=listing, counter=counter, entry=entry, stamp=fetched.stamp
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
        # A trusted cache entry answers the hot reads here (api/hot_reads.py).
        hot = _hot_body(app, state)
        if hot is not None:
            await _send(send, 200, b"application/json", hot, extra)
            return
        if token is not None and method == b"POST" and scope.get("path") in NEEDS_PATHS:
            # A need's post the batching writer takes as it is (api/hot_writes.py); any other
            # goes on to the handler with its body as it came.
            body, receive = await read_body(receive, settings.max_body_bytes)
            written = None if body is None else await posted_need_body(app, principal, body)
            if written is not None:
                await _send(send, 201, b"application/json", written, extra)
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await next_app(scope, receive, send_with_headers)


def _hot_body(app: AppResources, state: dict[str, Any]) -> bytes | None:
    listed: Prefetched | None = state.get(PREFETCHED)
    if listed is not None:
        return cached_list_body(app, state.get(PRINCIPAL), listed)
    page: PrefetchedNeeds | None = state.get(PREFETCHED_NEEDS)
    return None if page is None else cached_page_body(app, page)


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
