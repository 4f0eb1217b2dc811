"""A request whose transaction lost a deadlock or a serialization conflict is run again.

The lock order in storage/matches.py keeps deadlocks rare, but one that is left (a pair that
appeared between a first look and a lock) must never reach the client as a 500. The exception
handler turns such a failure into a 503 with Retry-After and a private marker header; this
middleware, wrapped around every HTTP route, replays the request (its transaction was rolled
back whole, so a replay is safe) a bounded number of times with jitter, and strips the marker
from whatever it finally sends."""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

import asyncpg
from litestar import Request, Response
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from asfmatch.api.errors import PROBLEM_JSON, Problem

log = logging.getLogger(__name__)

# Tries in all, and the longest pause before a retry (growing with the attempt number).
ATTEMPTS = 4
MAX_PAUSE_SECONDS = 0.05
RETRY_AFTER_SECONDS = 1
_MARKER = b"x-asfmatch-retryable"


def handle_conflict(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    """A deadlock or serialization failure: 503 with Retry-After, marked for a replay."""
    log.info("transaction conflict on %s %s: %s", request.method, request.url.path, exc)
    return Response(
        Problem(
            status=503,
            title="Service unavailable",
            detail="the request collided with a concurrent change; try again",
        ),
        status_code=503,
        media_type=PROBLEM_JSON,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS), _MARKER.decode(): "1"},
    )


CONFLICT_HANDLERS: dict[type[Exception], Any] = {
    asyncpg.DeadlockDetectedError: handle_conflict,
    asyncpg.SerializationError: handle_conflict,
}


class TransactionRetry(ASGIMiddleware):
    """Replays a request whose response carries the conflict marker, up to ATTEMPTS times."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        # What the app has read of the request so far, so a replay can read it again; the rest
        # (and a later disconnect) still comes from the client.
        seen: list[ReceiveMessage] = []

        async def recording_receive() -> ReceiveMessage:
            message = await receive()
            seen.append(message)
            return message

        for attempt in range(1, ATTEMPTS + 1):
            last = attempt == ATTEMPTS
            if not await _attempt(scope, list(seen), recording_receive, send, next_app, last):
                return
            log.info("retrying %s (attempt %d)", scope["path"], attempt + 1)
            await asyncio.sleep(random.uniform(0, MAX_PAUSE_SECONDS) * attempt)  # noqa: S311


async def _attempt(
    scope: Scope,
    replay: list[ReceiveMessage],
    receive: Receive,
    send: Send,
    next_app: ASGIApp,
    last: bool,
) -> bool:
    """Run the app once; True when its response was a marked conflict to be replayed."""
    discard = False

    async def replaying_receive() -> ReceiveMessage:
        return replay.pop(0) if replay else await receive()

    async def guarded_send(message: Message) -> None:
        nonlocal discard
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            if any(bytes(name).lower() == _MARKER for name, _ in headers):
                message["headers"] = [(n, v) for n, v in headers if bytes(n).lower() != _MARKER]
                discard = not last
        if not discard:
            await send(message)

    await next_app(scope, replaying_receive, guarded_send)
    return discard
