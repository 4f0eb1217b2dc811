"""Who is told what: the hooks the ranking jobs call inside their transaction, and the deferred
digest job. Rules and their reasons are in docs/notifications.md."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec

from asfmatch.matching.feedback import PenaltyRule, group_weights, notify_score
from asfmatch.matching.joint_bids import JointBid
from asfmatch.storage import answer_history, jobs, notifications, webhooks
from asfmatch.storage.db import Connection
from asfmatch.storage.events import inbox_topic, need_topic, wake_pages, wake_streams
from asfmatch.storage.jobs import Job
from asfmatch.storage.matches import ScoredPair
from asfmatch.storage.notifications import (
    FREQUENCY_SECONDS,
    INSTANT_CHANNELS,
    NeedFacts,
    NotificationKind,
    Preferences,
    SupplierState,
)
from asfmatch.storage.settings import Settings


def wants(preferences: Preferences, need: NeedFacts, floor: float) -> bool:
    """Whether a supplier's preferences let this need through (`floor`: the service's minimum)."""
    if need.score < max(floor, preferences.min_score):
        return False
    if preferences.lan and need.lan not in preferences.lan:
        return False
    if preferences.cpv_prefixes:
        # A need without codes cannot be shown to lie in the chosen areas, so it stays out.
        return any(
            code.startswith(prefix)
            for code in need.cpv_codes
            for prefix in preferences.cpv_prefixes
        )
    return True


# Details a webhook carries as they are: an endpoint's id, the need an outcome question is
# about, a joint bid's partners (names and ids only, never contact details).
_PUSHED_DETAIL = ("endpoint_id", "need_id", "joint_bid")


def _partners(need_id: int, supplier_id: int, groups: Sequence[JointBid]) -> dict[str, Any]:
    """What a member is told: each group it is in, with the partners and why they fit."""
    return {
        "need_id": need_id,
        "groups": [
            {
                "rank": group.rank,
                "partners": [
                    {"supplier_id": m.supplier_id, "name": m.name}
                    for m in group.members
                    if m.supplier_id != supplier_id
                ],
                "summary": group.summary,
                "summary_sv": group.summary_sv,
            }
            for group in groups
        ],
    }


# Answers older than this many half-lives weigh under 1/64 of a fresh one: not worth reading.
_HISTORY_HALF_LIVES = 6


class _Written(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    supplier_id: int
    kind: NotificationKind
    channels: list[str]
    need_ids: list[int]
    detail: dict[str, Any]
    state: SupplierState
    frequency: str


class Notifier:
    """Writes notifications and queues what carries them, in the caller's transaction."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.penalty = PenaltyRule(
            repeat=settings.wrong_service_repeat,
            factor=settings.wrong_service_factor,
            half_life_days=settings.wrong_service_half_life_days,
            strong_score=settings.wrong_service_strong_score,
        )

    async def _judged_by_answers(
        self, connection: Connection, supplier_ids: Sequence[int]
    ) -> dict[int, dict[str, float]]:
        """Per supplier, its decayed "wrong service" weight per CPV group (docs/trust.md)."""
        now = datetime.now(UTC)
        half_life = self.penalty.half_life_days
        since = now - timedelta(days=half_life * _HISTORY_HALF_LIVES)
        history = await answer_history.recent_answers(connection, supplier_ids, since)
        return {
            supplier_id: group_weights(answers, now, half_life)
            for supplier_id, answers in history.items()
        }

    def _as_judged(self, need: NeedFacts, weights: dict[str, float] | None) -> NeedFacts:
        """The need as the supplier's answers let it be judged: its score lowered after
        repeated "wrong service" to its kind of need."""
        if not weights:
            return need
        score = notify_score(need.score, need.cpv_codes, weights, self.penalty)
        return need if score == need.score else msgspec.structs.replace(need, score=score)

    async def need_ranked(
        self, connection: Connection, need_id: int, ranked: Sequence[ScoredPair]
    ) -> None:
        """A need's list was stored: tell each supplier in its top N, above the threshold, that
        was never told about this need and whose preferences let it through."""
        settings = self.settings
        top = [p for p in ranked[: settings.notify_top_n] if p.score >= settings.notify_min_score]
        if not top:
            return
        facts = await notifications.need_facts(connection, need_id)
        if facts is None:
            return
        lan, cpv_codes = facts
        told = await notifications.told_about(connection, need_id, [p.supplier_id for p in top])
        fresh = sorted((p for p in top if p.supplier_id not in told), key=lambda p: p.supplier_id)
        if not fresh:
            return
        preferences = await notifications.preferences_for(
            connection, [p.supplier_id for p in fresh]
        )
        judged = await self._judged_by_answers(connection, [p.supplier_id for p in fresh])
        written: list[_Written] = []
        # Ascending supplier ids: every writer locks suppliers in the same order.
        for pair in fresh:
            need = NeedFacts(id=need_id, lan=lan, cpv_codes=cpv_codes, score=pair.score)
            chosen = preferences[pair.supplier_id]
            as_judged = self._as_judged(need, judged.get(pair.supplier_id))
            if not wants(chosen, as_judged, settings.notify_min_score):
                continue
            state = await notifications.lock_state(connection, pair.supplier_id)
            # Checked again under the lock: a digest may have told it since the first look.
            if await notifications.told_about(connection, need_id, [pair.supplier_id]):
                continue
            written.append(await self._write(connection, chosen, state, "need.matched", [need]))
        await self._send(connection, written)

    async def joint_bids_suggested(
        self, connection: Connection, need_id: int, groups: Sequence[JointBid]
    ) -> None:
        """Tell each member of a suggested group, not yet told about the need and whose
        preferences let it through, that it could bid together with its partners. One
        notification per member names every group it is in (docs/joint-bids.md)."""
        if not groups:
            return
        facts = await notifications.need_facts(connection, need_id)
        if facts is None:
            return
        lan, cpv_codes = facts
        by_member: dict[int, list[JointBid]] = {}
        scores: dict[int, float] = {}
        for group in groups:
            for member in group.members:
                by_member.setdefault(member.supplier_id, []).append(group)
                scores[member.supplier_id] = member.score
        told = await notifications.told_about(connection, need_id, list(by_member))
        fresh = sorted(supplier_id for supplier_id in by_member if supplier_id not in told)
        preferences = await notifications.preferences_for(connection, fresh)
        written: list[_Written] = []
        # Ascending supplier ids, as every writer locks suppliers.
        for supplier_id in fresh:
            need = NeedFacts(id=need_id, lan=lan, cpv_codes=cpv_codes, score=scores[supplier_id])
            chosen = preferences[supplier_id]
            if not wants(chosen, need, self.settings.notify_min_score):
                continue
            state = await notifications.lock_state(connection, supplier_id)
            if await notifications.told_about(connection, need_id, [supplier_id]):
                continue
            detail = {"joint_bid": _partners(need_id, supplier_id, by_member[supplier_id])}
            written.append(
                await self._write(connection, chosen, state, "need.matched", [need], detail=detail)
            )
        await self._send(connection, written)

    async def run_digest(self, pool: asyncpg.Pool, job: Job) -> None:
        """The deferred digest job: the same rules as `supplier_ranked`, now that it is due."""
        async with pool.acquire() as connection, connection.transaction():
            await self.supplier_ranked(connection, job.entity_id)

    async def supplier_ranked(self, connection: Connection, supplier_id: int) -> None:
        """A supplier's list was stored: gather the open needs on it it was not told about into
        one digest, now or when its digest frequency next allows."""
        settings = self.settings
        chosen = await notifications.get_preferences(connection, supplier_id)
        period = FREQUENCY_SECONDS[chosen.digest_frequency]
        if period is None:
            return
        floor = max(settings.notify_min_score, chosen.min_score)
        state = await notifications.lock_state(connection, supplier_id)
        weights = (await self._judged_by_answers(connection, [supplier_id])).get(supplier_id)
        candidates = [
            need
            for need in await notifications.untold_open_needs(connection, supplier_id, floor)
            if wants(chosen, self._as_judged(need, weights), floor)
        ]
        if not candidates:
            return
        if state.last_digest_at is not None:
            wait = (state.last_digest_at - state.now).total_seconds() + period
            if wait > 0:
                # Durable like the rest: the deferred digest is a job in this same transaction.
                await jobs.enqueue(
                    connection, notifications.DIGEST_JOB, supplier_id, delay_seconds=wait
                )
                return
        written = await self._write(connection, chosen, state, "needs.digest", candidates)
        await notifications.mark_digest_sent(connection, supplier_id)
        await self._send(connection, [written])

    async def endpoint_disabled(
        self, connection: Connection, supplier_id: int, endpoint_id: int, url: str, reason: str
    ) -> None:
        """Tell an endpoint's owner that it was disabled (not counted against the daily cap)."""
        chosen = await notifications.get_preferences(connection, supplier_id)
        state = await notifications.lock_state(connection, supplier_id)
        detail = {"endpoint_id": endpoint_id, "url": url, "reason": reason}
        written = await self._write(
            connection, chosen, state, "webhook.disabled", [], detail=detail, counted=False
        )
        await self._send(connection, [written])

    async def outcome_question(
        self, connection: Connection, supplier_id: int, need_id: int, title: str, round_days: int
    ) -> int:
        """Ask an ASF whether it won a contract for a need (not counted against the daily cap:
        it is one question per need and round); returns the notification's id."""
        chosen = await notifications.get_preferences(connection, supplier_id)
        state = await notifications.lock_state(connection, supplier_id)
        detail = {"need_id": need_id, "title": title, "round_days": round_days}
        written = await self._write(
            connection, chosen, state, "outcome.question", [], detail=detail, counted=False
        )
        await self._send(connection, [written])
        return written.id

    async def _write(
        self,
        connection: Connection,
        chosen: Preferences,
        state: SupplierState,
        kind: NotificationKind,
        needs: Sequence[NeedFacts],
        *,
        detail: dict[str, Any] | None = None,
        counted: bool = True,
    ) -> _Written:
        channels: list[str] = list(chosen.channels)
        capped = False
        instant = counted and bool(INSTANT_CHANNELS & set(channels))
        if instant and not await notifications.take_quota(
            connection, chosen.supplier_id, self.settings.notify_daily_cap
        ):
            # Over the cap: kept for the inbox and the e-mail digest, not pushed.
            capped = True
            channels = [c for c in channels if c not in INSTANT_CHANNELS]
        notification_id = await notifications.insert_notification(
            connection,
            chosen.supplier_id,
            kind,
            channels,
            capped=capped,
            detail=detail,
            needs=needs,
        )
        return _Written(
            id=notification_id,
            supplier_id=chosen.supplier_id,
            kind=kind,
            channels=channels,
            need_ids=[need.id for need in needs],
            detail=detail or {},
            state=state,
            frequency=chosen.digest_frequency,
        )

    async def _send(self, connection: Connection, written: Sequence[_Written]) -> None:
        """Queue webhook messages and e-mail for what was just written, and wake live streams."""
        if not written:
            return
        settings = self.settings
        hooked = [w.supplier_id for w in written if "webhook" in w.channels]
        endpoints = await webhooks.enabled_endpoints(connection, hooked) if hooked else {}
        for item in written:
            body = webhooks.event_body(
                settings,
                kind=item.kind,
                supplier_id=item.supplier_id,
                notification_id=item.id,
                need_ids=item.need_ids,
                moment=item.state.now,
                extra={key: item.detail[key] for key in _PUSHED_DETAIL if key in item.detail}
                or None,
            )
            if "webhook" in item.channels:
                for endpoint_id in endpoints.get(item.supplier_id, []):
                    await webhooks.queue_message(connection, endpoint_id, item.id, item.kind, body)
            period = FREQUENCY_SECONDS[item.frequency]
            if settings.smtp_host and "email" in item.channels and period is not None:
                last = item.state.last_email_at
                wait = 0.0 if last is None else (last - item.state.now).total_seconds() + period
                await jobs.enqueue(
                    connection,
                    notifications.EMAIL_JOB,
                    item.supplier_id,
                    delay_seconds=max(0, wait),
                )
        # A NOTIFY in this transaction: delivered when it commits, never before.
        await wake_streams(connection, [w.supplier_id for w in written if "sse" in w.channels])
        # Open pages: the ASF's inbox (whatever its channels) and the buyer's "told" count.
        await wake_pages(
            connection,
            [inbox_topic(w.supplier_id) for w in written]
            + [need_topic(need_id) for w in written for need_id in w.need_ids],
        )
