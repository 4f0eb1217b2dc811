"""What suppliers are told about needs: preferences, the inbox and answers, and the answers as
the need's buyer sees them."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from asfmatch.services.access import require
from asfmatch.services.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from asfmatch.services.text import LINE, TEXT
from asfmatch.services.validation import Checker
from asfmatch.storage import matches
from asfmatch.storage import notifications as repo
from asfmatch.storage.db import Connection
from asfmatch.storage.notifications import (
    CHANNELS,
    DECLINE_REASONS,
    Channel,
    DeclineReason,
    DigestFrequency,
    Inbox,
    NeedInterest,
    Notification,
    Preferences,
)
from asfmatch.storage.organisations import Principal
from asfmatch.storage.suppliers import Supplier, get_supplier

Score = Annotated[float, Meta(ge=0.0, le=1.0)]
LanCode = Annotated[str, Meta(max_length=2, pattern=LINE, examples=["25"])]
CpvPrefix = Annotated[str, Meta(max_length=10, pattern=LINE, examples=["9091"])]
Reason = Annotated[str, Meta(max_length=1000, pattern=TEXT)]
ReasonCode = Annotated[
    DeclineReason,
    Meta(
        description="Why not interested (required with not_interested, absent with "
        "interested): wrong_service, too_far, too_large, no_capacity, deadline_too_short, or "
        "other (then `reason` must say why)."
    ),
]


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
    """Interested or not in a need the notification told about; "not_interested" takes a
    `reason_code` from the list (with `other`, `reason` is required); `need_id` picks one need
    of a digest (optional when the notification names only one)."""

    interest: Literal["interested", "not_interested"]
    reason_code: ReasonCode | None = None
    reason: Reason = ""
    need_id: int | None = None


def answer_errors(body: Answer) -> list[FieldError]:
    """What is wrong with an answer's reason: a decline without a code, a code on an
    interested answer, or "other" without a text."""
    if body.interest == "interested":
        if body.reason_code is not None:
            return [FieldError("reason_code", "only a not_interested answer takes a reason code")]
        return []
    if body.reason_code is None:
        listed = ", ".join(DECLINE_REASONS)
        return [FieldError("reason_code", f"required with not_interested: one of {listed}")]
    if body.reason_code == "other" and not body.reason.strip():
        return [FieldError("reason", "required when reason_code is other: say why")]
    return []


class MarkedRead(msgspec.Struct, frozen=True, kw_only=True):
    """How many notifications were unread and are now read."""

    marked: int


async def owned_supplier(db: Connection, principal: Principal | None, supplier_id: int) -> Supplier:
    """The supplier profile if the caller is it or an admin: Unauthenticated when anonymous,
    NotFound when there is no such profile, Forbidden otherwise."""
    caller = require(principal, "admin", "supplier")
    supplier = await get_supplier(db, supplier_id)
    if supplier is None:
        raise NotFound("supplier", supplier_id)
    if caller.role != "admin" and caller.organisation_id != supplier.organisation_id:
        raise Forbidden("only the supplier itself and admins may do this")
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
    check.raise_if_failed()
    chosen = {"inbox", *body.channels}
    return Preferences(
        supplier_id=supplier_id,
        min_score=body.min_score,
        lan=lan,
        cpv_prefixes=prefixes,
        channels=[channel for channel in CHANNELS if channel in chosen],
        digest_frequency=body.digest_frequency,
    )


async def get_preferences(
    db: Connection, principal: Principal | None, supplier_id: int
) -> Preferences:
    """A supplier's notification preferences."""
    await owned_supplier(db, principal, supplier_id)
    return await repo.get_preferences(db, supplier_id)


async def put_preferences(
    db: Connection, principal: Principal | None, supplier_id: int, body: PreferencesUpdate
) -> Preferences:
    """Replace a supplier's notification preferences."""
    await owned_supplier(db, principal, supplier_id)
    return await repo.put_preferences(db, _checked(supplier_id, body))


async def inbox(
    db: Connection,
    principal: Principal | None,
    supplier_id: int,
    *,
    unread_only: bool,
    page: int,
    page_size: int,
) -> Inbox:
    """A supplier's inbox: unread first, newest first."""
    await owned_supplier(db, principal, supplier_id)
    return await repo.list_inbox(
        db, supplier_id, unread_only=unread_only, page=page, page_size=page_size
    )


async def read_notification(
    db: Connection, principal: Principal | None, supplier_id: int, notification_id: int
) -> Notification:
    """One notification of a supplier."""
    await owned_supplier(db, principal, supplier_id)
    return await _notification(db, supplier_id, notification_id)


async def mark_read(
    db: Connection, principal: Principal | None, supplier_id: int, notification_id: int
) -> Notification:
    """Mark one notification read."""
    await owned_supplier(db, principal, supplier_id)
    if not await repo.mark_read(db, supplier_id, notification_id):
        raise NotFound("notification", notification_id)
    return await _notification(db, supplier_id, notification_id)


async def mark_all_read(
    db: Connection, principal: Principal | None, supplier_id: int
) -> MarkedRead:
    """Mark every notification of a supplier read."""
    await owned_supplier(db, principal, supplier_id)
    return MarkedRead(marked=await repo.mark_all_read(db, supplier_id))


async def answer(
    db: Connection,
    principal: Principal | None,
    supplier_id: int,
    notification_id: int,
    body: Answer,
) -> Notification:
    """Record interest (or not) in a need the notification told about; it is then read."""
    await owned_supplier(db, principal, supplier_id)
    errors = answer_errors(body)
    if errors:
        raise Invalid(errors)
    found = await _notification(db, supplier_id, notification_id)
    told = {need.need_id: need for need in found.needs}
    if not told:
        raise Conflict("this notification is not about a need")
    if body.need_id is None:
        if len(told) > 1:
            raise Invalid([FieldError("need_id", "this digest lists several needs: name the one")])
        need_id = next(iter(told))
    elif body.need_id not in told:
        raise Invalid([FieldError("need_id", f"need {body.need_id} is not in this notification")])
    else:
        need_id = body.need_id
    if told[need_id].status != "open":
        raise Conflict(f"need {need_id} is {told[need_id].status}; it takes no answers")
    await repo.answer(
        db,
        supplier_id,
        need_id,
        body.interest == "interested",
        body.reason.strip(),
        body.reason_code,
    )
    await repo.mark_read(db, supplier_id, notification_id)
    return await _notification(db, supplier_id, notification_id)


async def need_interest(
    db: Connection, principal: Principal | None, need_id: int, lots_hint_too_large: int = 2
) -> NeedInterest:
    """Who answered a need's notifications and why others declined, for its buyer and admins;
    the lots hint from `lots_hint_too_large` (ASFMATCH_LOTS_HINT_TOO_LARGE) "too large"."""
    caller = require(principal, "admin", "buyer")
    owner = await matches.need_owner(db, need_id)
    mine = owner is not None and (
        caller.role == "admin" or caller.organisation_id == owner.owner_organisation_id
    )
    if owner is None or (owner.status == "draft" and not mine):
        raise NotFound("need", need_id)
    if not mine:
        raise Forbidden("only the need's buyer and admins see the answers")
    return await repo.need_interest(db, need_id, lots_hint_too_large)


async def _notification(db: Connection, supplier_id: int, notification_id: int) -> Notification:
    found = await repo.get_notification(db, supplier_id, notification_id)
    if found is None:
        raise NotFound("notification", notification_id)
    return found


async def stream_start(
    db: Connection, principal: Principal | None, supplier_id: int, after: int | None
) -> int:
    """Where a supplier's live stream starts: after the event the client saw last, or after
    the newest one when it saw none."""
    await owned_supplier(db, principal, supplier_id)
    return await repo.latest_id(db, supplier_id) if after is None else after
