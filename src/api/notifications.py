"""/api/v1/suppliers/{id}/notifications and friends over HTTP, and the live stream of a
supplier's notifications as Server-Sent Events."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.datastructures import State
from litestar.params import FromQuery, JSONBody
from litestar.response import ServerSentEvent, ServerSentEventMessage

from asfmatch.api.errors import ApiError
from asfmatch.api.guards import requires_key
from asfmatch.api.schemas import PageNumber, PageSize, PathId
from asfmatch.api.state import (
    PRINCIPAL,
    AppResources,
    Caller,
    Db,
    pooled,
    resources,
)
from asfmatch.services import notifications as service
from asfmatch.services.errors import FieldError, Invalid
from asfmatch.services.notifications import Answer, MarkedRead, PreferencesUpdate
from asfmatch.storage import notifications as repo
from asfmatch.storage.notifications import Inbox, NeedInterest, Notification, Preferences
from asfmatch.storage.stream_hub import TooManyStreams, Wakeup


def _last_event_id(request: Request[Any, Any, Any]) -> int | None:
    raw = request.headers.get("last-event-id")
    if raw is None or not raw.strip():
        return None
    raw = raw.strip()
    if not raw.isdigit() or len(raw) > 18:
        raise Invalid(
            [FieldError("Last-Event-ID", "an event id from this stream (a whole number)")]
        )
    return int(raw)


class NotificationController(Controller):
    """/api/v1/suppliers/{id}/notifications, …/notification-preferences, …/events and
    /api/v1/needs/{id}/interest"""

    path = "/api/v1"
    guards = [requires_key]
    tags = ["notifications"]

    @get(
        "/suppliers/{supplier_id:int}/notification-preferences",
        summary="A supplier's notification preferences (the supplier or an admin)",
    )
    async def preferences(self, db: Db, principal: Caller, supplier_id: PathId) -> Preferences:
        return await service.get_preferences(db, principal, supplier_id)

    @put(
        "/suppliers/{supplier_id:int}/notification-preferences",
        summary="Replace a supplier's notification preferences (the supplier or an admin)",
    )
    async def set_preferences(
        self,
        db: Db,
        principal: Caller,
        supplier_id: PathId,
        data: JSONBody[PreferencesUpdate],
    ) -> Preferences:
        return await service.put_preferences(db, principal, supplier_id, data)

    @get(
        "/suppliers/{supplier_id:int}/notifications",
        summary="A supplier's inbox: unread first, newest first (the supplier or an admin)",
    )
    async def inbox(
        self,
        db: Db,
        principal: Caller,
        supplier_id: PathId,
        unread_only: FromQuery[bool] = False,
        page: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> Inbox:
        return await service.inbox(
            db, principal, supplier_id, unread_only=unread_only, page=page, page_size=page_size
        )

    @get(
        "/suppliers/{supplier_id:int}/notifications/{notification_id:int}",
        summary="One notification",
    )
    async def read_one(
        self,
        db: Db,
        principal: Caller,
        supplier_id: PathId,
        notification_id: PathId,
    ) -> Notification:
        return await service.read_notification(db, principal, supplier_id, notification_id)

    @post(
        "/suppliers/{supplier_id:int}/notifications/{notification_id:int}/read",
        status_code=200,
        summary="Mark a notification read",
    )
    async def mark_read(
        self,
        db: Db,
        principal: Caller,
        supplier_id: PathId,
        notification_id: PathId,
    ) -> Notification:
        return await service.mark_read(db, principal, supplier_id, notification_id)

    @post(
        "/suppliers/{supplier_id:int}/notifications/read-all",
        status_code=200,
        summary="Mark every notification read",
    )
    async def mark_all_read(self, db: Db, principal: Caller, supplier_id: PathId) -> MarkedRead:
        return await service.mark_all_read(db, principal, supplier_id)

    @post(
        "/suppliers/{supplier_id:int}/notifications/{notification_id:int}/answer",
        status_code=200,
        summary="Answer a notification: interested or not in its need, and why",
    )
    async def answer(
        self,
        db: Db,
        principal: Caller,
        supplier_id: PathId,
        notification_id: PathId,
        data: JSONBody[Answer],
    ) -> Notification:
        return await service.answer(db, principal, supplier_id, notification_id, data)

    @get(
        "/needs/{need_id:int}/interest",
        summary="Who answered a need's notifications: interested suppliers by name, declines "
        "counted by reason, and whether to split the need into lots (its buyer, admins)",
    )
    async def interest(
        self, state: State, db: Db, principal: Caller, need_id: PathId
    ) -> NeedInterest:
        hint = resources(state).settings.lots_hint_too_large
        return await service.need_interest(db, principal, need_id, hint)

    @get(
        "/suppliers/{supplier_id:int}/events",
        summary="Live notifications as Server-Sent Events (the supplier or an admin); send "
        "Last-Event-ID to replay what was missed",
    )
    async def events(
        self, request: Request[Any, Any, Any], state: State, supplier_id: PathId
    ) -> ServerSentEvent:
        app = resources(state)
        # Not the per-request connection dependency: that would hold a pooled connection and a
        # transaction open for as long as the stream lives.
        principal = request.state[PRINCIPAL]
        async with pooled(app) as connection:
            after = await service.stream_start(
                connection, principal, supplier_id, _last_event_id(request)
            )
        limit = app.settings.max_streams_per_key
        if app.streams.streams_of(principal.key_id) >= limit:
            raise ApiError(
                429,
                "Too many requests",
                f"a key holds at most {limit} live streams at once; close one first",
                headers={"Retry-After": "5"},
            )
        return ServerSentEvent(
            _registered(app, principal.key_id, supplier_id, after),
            # Proxies must pass events on as they come, not buffer the response.
            headers={"X-Accel-Buffering": "no"},
        )


_encoder = msgspec.json.Encoder()
# While the hub has no LISTEN connection, PostgreSQL is polled at least this often.
_POLL_WITHOUT_LISTENER = 2.0
_REPLAY_BATCH = 100


async def _stream(
    app: AppResources, wakeup: Wakeup, supplier_id: int, after: int
) -> AsyncIterator[ServerSentEventMessage]:
    """Events with ids above `after`: a replay from PostgreSQL, then live ones as the hub wakes
    the stream. Ends within a second of the key's revocation, or when the client goes away."""
    settings = app.settings
    last = after

    async def catch_up() -> list[ServerSentEventMessage]:
        nonlocal last
        found: list[ServerSentEventMessage] = []
        while True:
            async with app.pool.acquire() as connection:
                batch = await repo.on_channel_since(
                    connection, supplier_id, "sse", last, _REPLAY_BATCH
                )
            for item in batch:
                found.append(
                    ServerSentEventMessage(
                        id=item.id, event=item.type, data=_encoder.encode(item).decode()
                    )
                )
                last = item.id
            if len(batch) < _REPLAY_BATCH:
                return found

    # Registered with the hub before the replay, so nothing committed in between is missed.
    yield ServerSentEventMessage(comment="connected", data=None, retry=3000)
    for message in await catch_up():
        yield message
    heartbeat = settings.sse_heartbeat_seconds
    next_beat = time.monotonic() + heartbeat
    while not wakeup.revoked:
        now = time.monotonic()
        due = next_beat if app.streams.listening else min(next_beat, now + _POLL_WITHOUT_LISTENER)
        woke = await wakeup.wait(max(0.0, due - now))
        if wakeup.revoked:
            return
        if time.monotonic() >= next_beat:
            yield ServerSentEventMessage(comment="keep-alive", data=None)
            next_beat = time.monotonic() + heartbeat
        if woke or not app.streams.listening:
            for message in await catch_up():
                yield message


async def _registered(
    app: AppResources, key_id: int, supplier_id: int, after: int
) -> AsyncIterator[ServerSentEventMessage]:
    """The stream, registered with the hub for exactly as long as it runs."""
    try:
        async with app.streams.stream(
            supplier_id, key_id, app.settings.max_streams_per_key
        ) as wakeup:
            async for message in _stream(app, wakeup, supplier_id, after):
                yield message
    except TooManyStreams:
        return  # opened by a parallel request since the check: end at once
