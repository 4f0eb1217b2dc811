"""What suppliers are told about needs: preferences, the inbox and answers, the live stream
(Server-Sent Events), and the answers as the need's buyer sees them."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import anyio
import msgspec
from litestar import Controller, Request, get, post, put
from litestar.datastructures import State
from litestar.params import FromQuery, JSONBody
from litestar.response import ServerSentEvent, ServerSentEventMessage
from msgspec import Meta

from asfmatch.api.errors import ApiError, FieldError, InvalidInput, forbidden, not_found
from asfmatch.api.schemas import PageNumber, PageSize, PathId
from asfmatch.api.state import AppResources, Caller, Db, bearer_token, require, resources
from asfmatch.api.text import LINE, TEXT
from asfmatch.api.validation import Checker
from asfmatch.storage import matches
from asfmatch.storage import notifications as repo
from asfmatch.storage.db import Connection
from asfmatch.storage.events import Subscription
from asfmatch.storage.notifications import (
    CHANNELS,
    Channel,
    DigestFrequency,
    Inbox,
    NeedInterest,
    Notification,
    Preferences,
)
from asfmatch.storage.organisations import Principal, authenticate
from asfmatch.storage.suppliers import Supplier, get_supplier

Score = Annotated[float, Meta(ge=0.0, le=1.0)]
LanCode = Annotated[str, Meta(max_length=2, pattern=LINE, examples=["25"])]
CpvPrefix = Annotated[str, Meta(max_length=10, pattern=LINE, examples=["9091"])]
Reason = Annotated[str, Meta(max_length=1000, pattern=TEXT)]


class PreferencesUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The whole set of preferences (absent fields take their defaults). Empty `lan` and
    `cpv_prefixes` mean no restriction. The inbox is always on: every notification is kept."""

    min_score: Score = 0.0
    lan: Annotated[list[LanCode], Meta(max_length=21)] = msgspec.field(default_factory=list)
    cpv_prefixes: Annotated[list[CpvPrefix], Meta(max_length=50)] = msgspec.field(
        default_factory=list
    )
    channels: Annotated[list[Channel], Meta(max_length=8)] = msgspec.field(
        default_factory=lambda: list(CHANNELS)
    )
    digest_frequency: DigestFrequency = "daily"


class Answer(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Interested or not in a need the notification told about; `need_id` picks one need of a
    digest (optional when the notification names only one)."""

    interest: Literal["interested", "not_interested"]
    reason: Reason = ""
    need_id: int | None = None


class MarkedRead(msgspec.Struct, frozen=True, kw_only=True):
    """How many notifications were unread and are now read."""

    marked: int


async def owned_supplier(db: Connection, principal: Principal | None, supplier_id: int) -> Supplier:
    """The supplier profile if the caller is it or an admin: 401 anonymous, 403 otherwise, 404
    when there is no such profile."""
    caller = require(principal, "admin", "supplier")
    supplier = await get_supplier(db, supplier_id)
    if supplier is None:
        raise not_found("supplier", supplier_id)
    if caller.role != "admin" and caller.organisation_id != supplier.organisation_id:
        raise forbidden("only the supplier itself and admins may do this")
    return supplier


def _checked(supplier_id: int, body: PreferencesUpdate) -> Preferences:
    check = Checker()
    lan: list[str] = []
    for position, code in enumerate(body.lan):
        if check.lan(f"lan[{position}]", code) not in lan:
            lan.append(code)
    prefixes: list[str] = []
    for position, raw in enumerate(body.cpv_prefixes):
        prefix = check.cpv_prefix(f"cpv_prefixes[{position}]", raw)
        if prefix not in prefixes:
            prefixes.append(prefix)
    if check.errors:
        raise InvalidInput(check.errors)
    chosen = {"inbox", *body.channels}
    return Preferences(
        supplier_id=supplier_id,
        min_score=body.min_score,
        lan=lan,
        cpv_prefixes=prefixes,
        channels=[channel for channel in CHANNELS if channel in chosen],
        digest_frequency=body.digest_frequency,
    )


def _last_event_id(request: Request[Any, Any, Any]) -> int | None:
    raw = request.headers.get("last-event-id")
    if raw is None or not raw.strip():
        return None
    raw = raw.strip()
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidInput(
            [FieldError("Last-Event-ID", "an event id from this stream (a whole number)")]
        )
    return int(raw)


class NotificationController(Controller):
    """/api/v1/suppliers/{id}/notifications, …/notification-preferences, …/events and
    /api/v1/needs/{id}/interest"""

    path = "/api/v1"
    tags = ["notifications"]

    @get(
        "/suppliers/{supplier_id:int}/notification-preferences",
        summary="A supplier's notification preferences (the supplier or an admin)",
    )
    async def preferences(self, db: Db, principal: Caller, supplier_id: PathId) -> Preferences:
        await owned_supplier(db, principal, supplier_id)
        return await repo.get_preferences(db, supplier_id)

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
        await owned_supplier(db, principal, supplier_id)
        return await repo.put_preferences(db, _checked(supplier_id, data))

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
        await owned_supplier(db, principal, supplier_id)
        return await repo.list_inbox(
            db, supplier_id, unread_only=unread_only, page=page, page_size=page_size
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
        await owned_supplier(db, principal, supplier_id)
        return await _notification(db, supplier_id, notification_id)

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
        await owned_supplier(db, principal, supplier_id)
        if not await repo.mark_read(db, supplier_id, notification_id):
            raise not_found("notification", notification_id)
        return await _notification(db, supplier_id, notification_id)

    @post(
        "/suppliers/{supplier_id:int}/notifications/read-all",
        status_code=200,
        summary="Mark every notification read",
    )
    async def mark_all_read(self, db: Db, principal: Caller, supplier_id: PathId) -> MarkedRead:
        await owned_supplier(db, principal, supplier_id)
        return MarkedRead(marked=await repo.mark_all_read(db, supplier_id))

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
        await owned_supplier(db, principal, supplier_id)
        found = await _notification(db, supplier_id, notification_id)
        told = {need.need_id: need for need in found.needs}
        if not told:
            raise ApiError(409, "Conflict", "this notification is not about a need")
        if data.need_id is None:
            if len(told) > 1:
                raise InvalidInput(
                    [FieldError("need_id", "this digest lists several needs: name the one")]
                )
            need_id = next(iter(told))
        elif data.need_id not in told:
            raise InvalidInput(
                [FieldError("need_id", f"need {data.need_id} is not in this notification")]
            )
        else:
            need_id = data.need_id
        if told[need_id].status != "open":
            raise ApiError(
                409, "Conflict", f"need {need_id} is {told[need_id].status}; it takes no answers"
            )
        await repo.answer(
            db, supplier_id, need_id, data.interest == "interested", data.reason.strip()
        )
        await repo.mark_read(db, supplier_id, notification_id)
        return await _notification(db, supplier_id, notification_id)

    @get(
        "/needs/{need_id:int}/interest",
        summary="Who answered a need's notifications: interested suppliers by name (its buyer, "
        "admins)",
    )
    async def interest(self, db: Db, principal: Caller, need_id: PathId) -> NeedInterest:
        caller = require(principal, "admin", "buyer")
        owner = await matches.need_owner(db, need_id)
        mine = owner is not None and (
            caller.role == "admin" or caller.organisation_id == owner.owner_organisation_id
        )
        if owner is None or (owner.status == "draft" and not mine):
            raise not_found("need", need_id)
        if not mine:
            raise forbidden("only the need's buyer and admins see the answers")
        return await repo.need_interest(db, need_id)

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
        async with app.pool.acquire() as connection:
            principal = None if token is None else await authenticate(connection, token)
            if token is not None and principal is None:
                raise ApiError(401, "Unauthorized", "unknown or revoked API key")
            await owned_supplier(connection, principal, supplier_id)
            after = _last_event_id(request)
            if after is None:
                after = await repo.latest_id(connection, supplier_id)
        assert token is not None
        return ServerSentEvent(
            _stream(app, token, supplier_id, after),
            # Proxies must pass events on as they come, not buffer the response.
            headers={"X-Accel-Buffering": "no"},
        )


async def _notification(db: Connection, supplier_id: int, notification_id: int) -> Notification:
    found = await repo.get_notification(db, supplier_id, notification_id)
    if found is None:
        raise not_found("notification", notification_id)
    return found


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
    subscription = Subscription(settings, app.services.redis_url, supplier_id)
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
