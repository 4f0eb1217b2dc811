"""/api/v1/suppliers/{id}/notifications and friends over HTTP, and the live stream of a
supplier's notifications as Server-Sent Events."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import msgspec
from litestar import Controller, Request, get, post, put
from litestar.datastructures import State
from litestar.params import FromQuery, JSONBody
from litestar.response import ServerSentEvent, ServerSentEventMessage

from asfmatch.api.guards import requires_key
from asfmatch.api.schemas import PageNumber, PageSize, PathId
from asfmatch.api.state import (
    PRINCIPAL,
    AppResources,
    Caller,
    Db,
    bearer_token,
    pooled,
    resources,
)
from asfmatch.services import notifications as service
from asfmatch.services.errors import FieldError, Invalid
from asfmatch.services.notifications import Answer, MarkedRead, PreferencesUpdate
from asfmatch.storage import notifications as repo
from asfmatch.storage.events import Subscription
from asfmatch.storage.notifications import Inbox, NeedInterest, Notification, Preferences
from asfmatch.storage.organisations import authenticate


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
        summary="Who answered a need's notifications: interested suppliers by name (its buyer, "
        "admins)",
    )
    async def interest(self, db: Db, principal: Caller, need_id: PathId) -> NeedInterest:
        return await service.need_interest(db, principal, need_id)

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
        token = bearer_token(request)
        assert token is not None  # the guard let the request through
        async with pooled(app) as connection:
            after = await service.stream_start(
                connection, request.state[PRINCIPAL], supplier_id, _last_event_id(request)
            )
        return ServerSentEvent(
            _stream(app, token, supplier_id, after),
            # Proxies must pass events on as they come, not buffer the response.
            headers={"X-Accel-Buffering": "no"},
        )


_encoder = msgspec.json.Encoder()
# After a wake-up, PostgreSQL is read again at these delays: the wake-up is sent just before the
# writer commits, so the first read can come too early.
_RECHECKS = (0.1, 0.5, 2.0)
# While Redis is away, PostgreSQL is polled at least this often.
_POLL_WITHOUT_REDIS = 2.0
_REPLAY_BATCH = 100


async def _stream(
    app: AppResources, token: str, supplier_id: int, after: int
) -> AsyncIterator[ServerSentEventMessage]:
    """Events with ids above `after`: a replay from PostgreSQL, then live ones as they come.
    Ends when the key is revoked (checked at each heartbeat) or the client goes away."""
    settings = app.settings
    subscription = Subscription(settings, app.servers.redis_url, supplier_id)
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

    async def key_still_valid() -> bool:
        async with app.pool.acquire() as connection:
            return await authenticate(connection, token) is not None

    try:
        # Subscribe before the replay, so nothing written in between is missed.
        await subscription.open()
        yield ServerSentEventMessage(comment="connected", data=None, retry=3000)
        for message in await catch_up():
            yield message
        heartbeat = settings.sse_heartbeat_seconds
        next_beat = time.monotonic() + heartbeat
        rechecks: list[float] = []
        while True:
            now = time.monotonic()
            due = min([next_beat, *rechecks[:1]])
            if not subscription.connected:
                due = min(due, now + _POLL_WITHOUT_REDIS)
            woke = await subscription.wait(max(0.0, due - now))
            now = time.monotonic()
            check = woke or not subscription.connected
            if woke:
                rechecks = [now + delay for delay in _RECHECKS]
            while rechecks and rechecks[0] <= now:
                rechecks.pop(0)
                check = True
            if now >= next_beat:
                if not await key_still_valid():
                    return
                yield ServerSentEventMessage(comment="keep-alive", data=None)
                next_beat = now + heartbeat
                check = True
            if check:
                for message in await catch_up():
                    yield message
    finally:
        # The client hung up and the stream is being cancelled: close Redis all the same.
        with anyio.CancelScope(shield=True):
            await subscription.close()
