"""The pages' live parts as one Server-Sent Events stream per page: the browser's EventSource
sends the session cookie, the stream names the topics that changed (a need's matches, an
inbox, the public counts), and the page fetches the changed fragments with htmx. The events
carry no content, so what a visitor may see is decided by the fragment handlers as always;
the stream itself only refuses topics the visitor may not watch."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any, cast

import asyncpg
from litestar import Request, get
from litestar.datastructures import State
from litestar.params import QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage, Template

from asfmatch.api.state import AppResources, Db, pooled, resources
from asfmatch.services import needs as needs_service
from asfmatch.services.errors import DomainError
from asfmatch.storage import overview, web_sessions
from asfmatch.storage.db import Connection
from asfmatch.storage.events import COUNTS
from asfmatch.storage.stream_hub import TooManyStreams, Wakeup
from asfmatch.web.errors import PageError
from asfmatch.web.rendering import page
from asfmatch.web.visitor import Visitor, VisitorDep, provide_visitor

# A burst of changes (a ranking touches many lists) becomes one event per topic: after a
# wake-up the stream waits this long for more before it speaks.
_SETTLE_SECONDS = 0.2
# The public counts change with every ranking; a start page need not refetch them more often.
_COUNTS_EVERY_SECONDS = 5.0
# Without the hub's LISTEN connection (PostgreSQL restarting) every topic is sent this often.
_POLL_WITHOUT_LISTENER = 3.0
_MAX_TOPICS = 8
PUBLIC_HOLDER = "public"

Topics = Annotated[
    list[str] | None, QueryParameter(name="amne", required=False, max_items=_MAX_TOPICS)
]


async def _allowed(db: Connection, visitor: Visitor, topic: str) -> bool:
    """May this visitor watch `topic`? The same rule as the fragment the topic refreshes."""
    if topic == COUNTS:
        return True
    kind, _, raw = topic.partition(":")
    if not raw.isdigit() or len(raw) > 18:
        return False
    number = int(raw)
    if kind == "inbox":
        own = visitor.supplier is not None and visitor.supplier.id == number
        return visitor.signed_in and (own or visitor.sees_everything)
    if kind == "need":
        if visitor.sees_everything:
            return True
        effective = visitor.effective
        if effective is None or effective.kind != "buyer":
            return False
        try:
            need = await needs_service.read_need(db, visitor.reader(), number)
        except DomainError:
            return False
        return need.buyer_id == effective.id
    return False


def _holder(visitor: Visitor) -> tuple[str, bool]:
    """Whose allowance a stream counts against, and whether that is a session's."""
    if visitor.token is None or visitor.session is None:
        return PUBLIC_HOLDER, False
    return "session:" + hashlib.sha256(visitor.token.encode()).hexdigest()[:32], True


@get("/live", name="web:live", include_in_schema=False)
async def live(
    request: Request[Any, Any, Any], state: State, amne: Topics = None
) -> ServerSentEvent:
    """One page's live topics as Server-Sent Events (`event:` is the topic that changed)."""
    app = resources(state)
    topics = frozenset(amne or ())
    if not topics:
        raise PageError(400, "error.bad_request")
    # Not the per-request connection: that would hold a connection open while the stream lives.
    async with pooled(app) as connection:
        # The pooled proxy behaves as the connection the dependency would have given.
        visitor = await provide_visitor(request, state, cast(asyncpg.Connection, connection))
        for topic in sorted(topics):
            if not await _allowed(connection, visitor, topic):
                raise PageError(403, "error.not_for_you")
    holder, signed_in = _holder(visitor)
    limit = app.settings.max_streams_per_key if signed_in else app.settings.max_public_streams
    if app.streams.streams_of_holder(holder) >= limit:
        raise PageError(429, "error.too_many")
    return ServerSentEvent(
        _registered(app, topics, holder, limit, visitor.token if signed_in else None),
        headers={"X-Accel-Buffering": "no", "Cache-Control": "no-store"},
    )


async def _registered(
    app: AppResources, topics: frozenset[str], holder: str, limit: int, token: str | None
) -> AsyncIterator[ServerSentEventMessage]:
    try:
        async with app.streams.watch(topics, holder, limit) as wakeup:
            async for message in _stream(app, wakeup, token):
                yield message
    except TooManyStreams:
        return


async def _session_alive(app: AppResources, token: str) -> bool:
    try:
        async with pooled(app) as connection:
            return await web_sessions.find_session(connection, token) is not None
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return True  # PostgreSQL away: the next heartbeat asks again


async def _stream(
    app: AppResources, wakeup: Wakeup, token: str | None
) -> AsyncIterator[ServerSentEventMessage]:
    """Events as the hub wakes the stream; ends when the hub stops (shutdown) or the session
    behind the stream ends (checked at each heartbeat)."""
    yield ServerSentEventMessage(comment="connected", data=None, retry=3000)
    heartbeat = app.settings.sse_heartbeat_seconds
    next_beat = time.monotonic() + heartbeat
    last_sent: dict[str, float] = {}
    held: set[str] = set()
    while not wakeup.revoked:
        now = time.monotonic()
        due = next_beat if app.streams.listening else min(next_beat, now + _POLL_WITHOUT_LISTENER)
        if held:
            due = min(due, now + _COUNTS_EVERY_SECONDS)
        woke = await wakeup.wait(max(0.0, due - now))
        if wakeup.revoked:
            return
        if woke:
            await asyncio.sleep(_SETTLE_SECONDS)
        changed = set(wakeup.take_woken()) | held
        if not app.streams.listening:
            changed |= wakeup.topics
        held = set()
        now = time.monotonic()
        for topic in sorted(changed):
            if topic == COUNTS and now - last_sent.get(topic, 0.0) < _COUNTS_EVERY_SECONDS:
                held.add(topic)
                continue
            last_sent[topic] = now
            yield ServerSentEventMessage(event=topic, data="changed")
        if now >= next_beat:
            if token is not None and not await _session_alive(app, token):
                return
            yield ServerSentEventMessage(comment="keep-alive", data=None)
            next_beat = time.monotonic() + heartbeat


@get("/antal", name="web:counts", include_in_schema=False)
async def counts_fragment(visitor: VisitorDep, db: Db) -> Template:
    """The public counts (start page and presenter screen refresh them live)."""
    return page(visitor, "partials/counts.html", counts=await overview.public_counts(db))


HANDLERS = [live, counts_fragment]
