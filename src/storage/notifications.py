"""Notifications to suppliers: preferences, the inbox, who was told about which need, answers,
the daily cap and the per-supplier bookkeeping of digests and e-mail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import asyncpg
import msgspec

from asfmatch.storage.db import Connection
from asfmatch.storage.events import need_topic, wake_pages

Channel = Literal["inbox", "sse", "webhook", "email"]
DigestFrequency = Literal["immediate", "hourly", "daily", "weekly", "never"]
NotificationKind = Literal["need.matched", "needs.digest", "webhook.disabled", "outcome.question"]
# Why a supplier is not interested in a need (docs/trust.md); 'other' needs a text.
DeclineReason = Literal[
    "wrong_service", "too_far", "too_large", "no_capacity", "deadline_too_short", "other"
]
DECLINE_REASONS: tuple[DeclineReason, ...] = (
    "wrong_service",
    "too_far",
    "too_large",
    "no_capacity",
    "deadline_too_short",
    "other",
)

CHANNELS: tuple[Channel, ...] = ("inbox", "sse", "webhook", "email")
# Channels that interrupt someone at once; the daily cap counts these.
INSTANT_CHANNELS: frozenset[str] = frozenset({"sse", "webhook"})
# How long a digest (reverse-match digest and e-mail) waits after the previous one; None: never.
FREQUENCY_SECONDS: dict[str, float | None] = {
    "immediate": 0.0,
    "hourly": 3600.0,
    "daily": 86400.0,
    "weekly": 7 * 86400.0,
    "never": None,
}

# Job kinds owned by notifications (the delivery job lives in storage.webhooks).
DIGEST_JOB = "notification_digest"
EMAIL_JOB = "notification_email"

# Calendar days for the daily cap are Swedish ones, whatever the server's time zone.
_TODAY = "(now() AT TIME ZONE 'Europe/Stockholm')::date"


class Preferences(msgspec.Struct, frozen=True, kw_only=True):
    """How a supplier wants to be told; defaults until it sets its own."""

    supplier_id: int
    min_score: float = 0.0
    lan: list[str] = msgspec.field(default_factory=list)
    cpv_prefixes: list[str] = msgspec.field(default_factory=list)
    channels: list[Channel] = msgspec.field(default_factory=lambda: list(CHANNELS))
    digest_frequency: DigestFrequency = "daily"
    updated_at: datetime | None = None


class NeedFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What preferences are checked against: where a need is and what it buys."""

    id: int
    lan: str
    cpv_codes: list[str]
    score: float


class NotifiedNeed(msgspec.Struct, frozen=True, kw_only=True):
    """A need a notification told about, and the supplier's answer if it gave one."""

    need_id: int
    title: str
    kommun: str
    status: str
    closes_at: datetime | None
    score: float
    interest: Literal["interested", "not_interested"] | None
    reason: str | None
    # With "not_interested": why, from the list (None for declines from before the list).
    reason_code: DeclineReason | None = None
    # Imported needs: where from ("ted", "ocds"; "asfmatch" for needs posted here), the buyer's
    # name (it may have no account) and the public notice to read and answer.
    source: str = "asfmatch"
    buyer_name: str | None = None
    notice_url: str | None = None
    whole_lan: bool = False
    reserved: bool = False


class Notification(msgspec.Struct, frozen=True, kw_only=True):
    """One inbox entry. `type` doubles as the live-stream event name and the webhook type."""

    id: int
    supplier_id: int
    type: NotificationKind
    created_at: datetime
    read_at: datetime | None
    # True when the daily cap kept it off the instant channels (it is still here and e-mailed).
    capped: bool
    channels: list[Channel]
    needs: list[NotifiedNeed]
    detail: dict[str, Any]


class Inbox(msgspec.Struct, frozen=True, kw_only=True):
    """One page of the inbox, unread first, newest first within each group."""

    items: list[Notification]
    page: int
    page_size: int
    total: int
    unread: int


class SupplierState(msgspec.Struct, frozen=True, kw_only=True):
    """A supplier's digest and e-mail bookkeeping, read under its lock."""

    supplier_id: int
    last_digest_at: datetime | None
    last_email_at: datetime | None
    emailed_up_to: int
    now: datetime


class Interested(msgspec.Struct, frozen=True, kw_only=True):
    """A supplier that answered "interested" to a need."""

    supplier_id: int
    supplier_name: str
    reason: str
    answered_at: datetime


class NeedInterest(msgspec.Struct, frozen=True, kw_only=True):
    """What a buyer learns from the answers: who is interested, and why others are not (the
    decliners stay anonymous, so declining costs a supplier nothing)."""

    need_id: int
    told: int
    interested: list[Interested]
    not_interested: int
    reasons_not_interested: list[str]
    # Declines per reason, every reason listed (declines from before the list: "not_given").
    declines_by_reason: dict[str, int] = msgspec.field(default_factory=dict)
    # True when at least ASFMATCH_LOTS_HINT_TOO_LARGE suppliers found the need too large:
    # splitting it into lots (delkontrakt) may let them bid.
    suggest_lots: bool = False


# --- preferences ---------------------------------------------------------------------------

_PREF_COLUMNS = "supplier_id, min_score, lan, cpv_prefixes, channels, digest_frequency, updated_at"


async def preferences_for(
    connection: Connection, supplier_ids: Sequence[int]
) -> dict[int, Preferences]:
    """Each supplier's preferences, the defaults for those that never set any."""
    rows = await connection.fetch(
        f"SELECT {_PREF_COLUMNS} FROM notification_preferences WHERE supplier_id = ANY($1::bigint[])",
        list(supplier_ids),
    )
    found = {row["supplier_id"]: Preferences(**dict(row)) for row in rows}
    return {sid: found.get(sid) or Preferences(supplier_id=sid) for sid in supplier_ids}


async def get_preferences(connection: Connection, supplier_id: int) -> Preferences:
    """One supplier's preferences (defaults if unset)."""
    return (await preferences_for(connection, [supplier_id]))[supplier_id]


async def put_preferences(connection: Connection, preferences: Preferences) -> Preferences:
    """Replace a supplier's preferences."""
    row = await connection.fetchrow(
        f"""
        INSERT INTO notification_preferences
            (supplier_id, min_score, lan, cpv_prefixes, channels, digest_frequency, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, now())
        ON CONFLICT (supplier_id) DO UPDATE SET
            min_score = excluded.min_score, lan = excluded.lan,
            cpv_prefixes = excluded.cpv_prefixes, channels = excluded.channels,
            digest_frequency = excluded.digest_frequency, updated_at = now()
        RETURNING {_PREF_COLUMNS}
        """,
        preferences.supplier_id,
        preferences.min_score,
        preferences.lan,
        preferences.cpv_prefixes,
        list(preferences.channels),
        preferences.digest_frequency,
    )
    assert row is not None
    return Preferences(**dict(row))


# --- writing notifications (the worker, inside the ranking transaction) ---------------------


async def lock_state(connection: Connection, supplier_id: int) -> SupplierState:
    """Lock the supplier's bookkeeping row until the transaction ends (creating it if needed).
    Every notification for the supplier is written under this lock; see sql/003."""
    row = await connection.fetchrow(
        """
        INSERT INTO notification_state (supplier_id) VALUES ($1)
        ON CONFLICT (supplier_id) DO UPDATE SET supplier_id = excluded.supplier_id
        RETURNING supplier_id, last_digest_at, last_email_at, emailed_up_to, now() AS now
        """,
        supplier_id,
    )
    assert row is not None
    return SupplierState(**dict(row))


async def need_facts(connection: Connection, need_id: int) -> tuple[str, list[str]] | None:
    """(län, CPV codes) of a need, or None if there is no such need."""
    row = await connection.fetchrow("SELECT lan, cpv_codes FROM needs WHERE id = $1", need_id)
    return None if row is None else (row["lan"], list(row["cpv_codes"]))


async def told_about(connection: Connection, need_id: int, supplier_ids: Sequence[int]) -> set[int]:
    """Which of these suppliers were already told about the need."""
    rows = await connection.fetch(
        """
        SELECT supplier_id FROM notified_needs
        WHERE need_id = $1 AND supplier_id = ANY($2::bigint[])
        """,
        need_id,
        list(supplier_ids),
    )
    return {row["supplier_id"] for row in rows}


async def untold_open_needs(
    connection: Connection, supplier_id: int, min_score: float
) -> list[NeedFacts]:
    """Open needs on the supplier's stored list, scoring at least `min_score`, that it was not
    told about yet; best first."""
    rows = await connection.fetch(
        """
        SELECT m.need_id AS id, n.lan, n.cpv_codes, m.score
        FROM matches m JOIN needs n ON n.id = m.need_id
        WHERE m.supplier_id = $1 AND m.in_supplier_list AND n.status = 'open'
          AND m.score >= $2
          AND NOT EXISTS (SELECT 1 FROM notified_needs t
                          WHERE t.supplier_id = m.supplier_id AND t.need_id = m.need_id)
        ORDER BY m.score DESC, m.need_id
        """,
        supplier_id,
        min_score,
    )
    return [NeedFacts(**dict(row)) for row in rows]


async def take_quota(connection: Connection, supplier_id: int, cap: int) -> bool:
    """Count one instant push against today's cap; False (and nothing counted) once it is full."""
    if cap <= 0:
        return False
    pushed = await connection.fetchval(
        f"""
        INSERT INTO notification_quota (supplier_id, day, pushed) VALUES ($1, {_TODAY}, 1)
        ON CONFLICT (supplier_id, day) DO UPDATE SET pushed = notification_quota.pushed + 1
        WHERE notification_quota.pushed < $2
        RETURNING pushed
        """,
        supplier_id,
        cap,
    )
    return pushed is not None


async def insert_notification(
    connection: Connection,
    supplier_id: int,
    kind: NotificationKind,
    channels: Sequence[str],
    *,
    capped: bool = False,
    detail: dict[str, Any] | None = None,
    needs: Sequence[NeedFacts] = (),
) -> int:
    """Write one notification and mark its needs as told; returns its id. Call under
    `lock_state` for the supplier."""
    notification_id: int = await connection.fetchval(
        """
        INSERT INTO notifications (supplier_id, kind, detail, channels, capped)
        VALUES ($1, $2, $3, $4, $5) RETURNING id
        """,
        supplier_id,
        kind,
        detail or {},
        list(channels),
        capped,
    )
    if needs:
        await connection.executemany(
            """
            INSERT INTO notified_needs (supplier_id, need_id, notification_id, score)
            VALUES ($1, $2, $3, $4)
            """,
            [(supplier_id, need.id, notification_id, need.score) for need in needs],
        )
    return notification_id


async def mark_digest_sent(connection: Connection, supplier_id: int) -> None:
    """Remember when the supplier's last reverse-match digest went out."""
    await connection.execute(
        "UPDATE notification_state SET last_digest_at = now() WHERE supplier_id = $1", supplier_id
    )


# --- reading: inbox, live stream, e-mail ----------------------------------------------------

_NOTIFICATION_COLUMNS = "id, supplier_id, kind, detail, channels, capped, created_at, read_at"


async def _with_needs(connection: Connection, rows: Sequence[asyncpg.Record]) -> list[Notification]:
    ids = [row["id"] for row in rows]
    if not ids:
        return []
    need_rows = await connection.fetch(
        """
        SELECT t.notification_id, t.need_id, t.score, n.title, n.kommun, n.status, n.closes_at,
               CASE WHEN i.interested THEN 'interested'
                    WHEN NOT i.interested THEN 'not_interested' END AS interest,
               i.reason, i.reason_code, n.source, coalesce(o.name, n.buyer_name) AS buyer_name,
               n.notice_url,
               n.whole_lan, n.reserved
        FROM notified_needs t
        JOIN needs n ON n.id = t.need_id
        LEFT JOIN organisations o ON o.id = n.buyer_id
        LEFT JOIN need_interest i ON i.need_id = t.need_id AND i.supplier_id = t.supplier_id
        WHERE t.notification_id = ANY($1::bigint[])
        ORDER BY t.score DESC, t.need_id
        """,
        ids,
    )
    needs: dict[int, list[NotifiedNeed]] = {}
    for row in need_rows:
        fields = dict(row)
        needs.setdefault(fields.pop("notification_id"), []).append(NotifiedNeed(**fields))
    return [
        Notification(
            id=row["id"],
            supplier_id=row["supplier_id"],
            type=row["kind"],
            created_at=row["created_at"],
            read_at=row["read_at"],
            capped=row["capped"],
            channels=list(row["channels"]),
            needs=needs.get(row["id"], []),
            detail=row["detail"],
        )
        for row in rows
    ]


async def list_inbox(
    connection: Connection, supplier_id: int, *, unread_only: bool, page: int, page_size: int
) -> Inbox:
    """One page of a supplier's notifications, unread first, then newest first."""
    rows = await connection.fetch(
        f"""
        SELECT {_NOTIFICATION_COLUMNS} FROM notifications
        WHERE supplier_id = $1 AND (NOT $2 OR read_at IS NULL)
        ORDER BY read_at IS NULL DESC, id DESC LIMIT $3 OFFSET $4
        """,
        supplier_id,
        unread_only,
        page_size,
        (page - 1) * page_size,
    )
    counts = await connection.fetchrow(
        """
        SELECT count(*) AS total, count(*) FILTER (WHERE read_at IS NULL) AS unread
        FROM notifications WHERE supplier_id = $1
        """,
        supplier_id,
    )
    assert counts is not None
    return Inbox(
        items=await _with_needs(connection, rows),
        page=page,
        page_size=page_size,
        total=int(counts["unread"] if unread_only else counts["total"]),
        unread=int(counts["unread"]),
    )


async def get_notification(
    connection: Connection, supplier_id: int, notification_id: int
) -> Notification | None:
    """One of the supplier's notifications, or None."""
    rows = await connection.fetch(
        f"SELECT {_NOTIFICATION_COLUMNS} FROM notifications WHERE id = $1 AND supplier_id = $2",
        notification_id,
        supplier_id,
    )
    found = await _with_needs(connection, rows)
    return found[0] if found else None


async def mark_read(connection: Connection, supplier_id: int, notification_id: int) -> bool:
    """Mark one notification read (a no-op if it already was); False if it is not the supplier's."""
    status: str = await connection.execute(
        """
        UPDATE notifications SET read_at = coalesce(read_at, now())
        WHERE id = $1 AND supplier_id = $2
        """,
        notification_id,
        supplier_id,
    )
    return status.endswith(" 1")


async def mark_all_read(connection: Connection, supplier_id: int) -> int:
    """Mark every unread notification read; returns how many were unread."""
    status: str = await connection.execute(
        "UPDATE notifications SET read_at = now() WHERE supplier_id = $1 AND read_at IS NULL",
        supplier_id,
    )
    return int(status.rsplit(" ", 1)[-1])


async def latest_id(connection: Connection, supplier_id: int) -> int:
    """The supplier's newest notification id (0 if none): where a fresh live stream starts."""
    found = await connection.fetchval(
        "SELECT max(id) FROM notifications WHERE supplier_id = $1", supplier_id
    )
    return int(found or 0)


async def on_channel_since(
    connection: Connection, supplier_id: int, channel: Channel, after_id: int, limit: int
) -> list[Notification]:
    """Notifications sent on `channel` with ids above `after_id`, oldest first."""
    rows = await connection.fetch(
        f"""
        SELECT {_NOTIFICATION_COLUMNS} FROM notifications
        WHERE supplier_id = $1 AND id > $2 AND $3 = ANY (channels)
        ORDER BY id LIMIT $4
        """,
        supplier_id,
        after_id,
        channel,
        limit,
    )
    return await _with_needs(connection, rows)


async def mark_emailed(connection: Connection, supplier_id: int, up_to: int) -> None:
    """Advance the e-mail watermark after a digest went out."""
    await connection.execute(
        """
        UPDATE notification_state SET last_email_at = now(),
               emailed_up_to = greatest(emailed_up_to, $2)
        WHERE supplier_id = $1
        """,
        supplier_id,
        up_to,
    )


async def email_recipient(connection: Connection, supplier_id: int) -> tuple[str | None, str]:
    """(address, name) for a supplier's e-mail: its profile's contact address, else its
    organisation's; the address is None when it has neither."""
    row = await connection.fetchrow(
        """
        SELECT coalesce(s.contact_email, o.contact_email) AS address, o.name
        FROM supplier_profiles s JOIN organisations o ON o.id = s.organisation_id
        WHERE s.id = $1
        """,
        supplier_id,
    )
    return (None, "") if row is None else (row["address"], row["name"])


# --- answers ---------------------------------------------------------------------------------


async def answer(
    connection: Connection,
    supplier_id: int,
    need_id: int,
    interested: bool,
    reason: str,
    reason_code: DeclineReason | None = None,
) -> None:
    """Record (or replace) the supplier's answer to a need it was told about."""
    await connection.execute(
        """
        INSERT INTO need_interest (need_id, supplier_id, interested, reason, reason_code)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (need_id, supplier_id) DO UPDATE
        SET interested = excluded.interested, reason = excluded.reason,
            reason_code = excluded.reason_code, answered_at = now()
        """,
        need_id,
        supplier_id,
        interested,
        reason,
        reason_code,
    )
    await wake_pages(connection, [need_topic(need_id)])


async def need_interest(
    connection: Connection, need_id: int, lots_hint_too_large: int = 2
) -> NeedInterest:
    """The answers to a need, as its buyer sees them; the lots hint from
    `lots_hint_too_large` "too large" declines."""
    told = await connection.fetchval(
        "SELECT count(*) FROM notified_needs WHERE need_id = $1", need_id
    )
    rows = await connection.fetch(
        """
        SELECT i.supplier_id, o.name AS supplier_name, i.interested, i.reason, i.reason_code,
               i.answered_at
        FROM need_interest i
        JOIN supplier_profiles s ON s.id = i.supplier_id
        JOIN organisations o ON o.id = s.organisation_id
        WHERE i.need_id = $1 ORDER BY i.answered_at, i.supplier_id
        """,
        need_id,
    )
    by_reason: dict[str, int] = {code: 0 for code in DECLINE_REASONS}
    for row in rows:
        if not row["interested"]:
            code = row["reason_code"] or "not_given"
            by_reason[code] = by_reason.get(code, 0) + 1
    return NeedInterest(
        need_id=need_id,
        told=int(told),
        declines_by_reason=by_reason,
        suggest_lots=by_reason["too_large"] >= max(1, lots_hint_too_large),
        interested=[
            Interested(
                supplier_id=row["supplier_id"],
                supplier_name=row["supplier_name"],
                reason=row["reason"],
                answered_at=row["answered_at"],
            )
            for row in rows
            if row["interested"]
        ],
        not_interested=sum(1 for row in rows if not row["interested"]),
        reasons_not_interested=[
            row["reason"] for row in rows if not row["interested"] and row["reason"]
        ],
    )
