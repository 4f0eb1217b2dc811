"""Follow-up questions: 7 and 30 days after a need's deadline its buyer, and every ASF that
answered interested, are asked whether a contract was signed: an ASF in its inbox and on its
notification channels, the buyer on "Mina behov" and by e-mail to its contact address
(workers/email.py). A scheduled scan queues one job per due need; the job asks under the
need's lock and marks the round handled, so a round is asked at most once however often
either runs, and never once an outcome is recorded."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import asyncpg

from asfmatch.services.outcomes import FOLLOW_UP_ROUNDS, due_rounds
from asfmatch.storage import jobs, outcomes
from asfmatch.storage.db import Connection
from asfmatch.storage.jobs import Job
from asfmatch.workers.notifications import Notifier

log = logging.getLogger(__name__)


class FollowUps:
    """The scheduled scan and the job that asks."""

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier

    async def schedule(self, pool: asyncpg.Pool) -> None:
        """Queue a follow-up job for every need with a round due (one job per need at most)."""
        now = datetime.now(UTC)
        async with pool.acquire() as connection, connection.transaction():
            due = await outcomes.needs_due_for_follow_up(connection, now, FOLLOW_UP_ROUNDS)
            for need_id in due:
                await jobs.enqueue(connection, outcomes.FOLLOW_UP_JOB, need_id)
        if due:
            log.info("queued outcome follow-ups for %d need(s)", len(due))

    async def run(self, pool: asyncpg.Pool, job: Job) -> None:
        """The queued job: ask about one need, in one transaction."""
        async with pool.acquire() as connection, connection.transaction():
            await self.ask(connection, job.entity_id, datetime.now(UTC))

    async def ask(self, connection: Connection, need_id: int, now: datetime) -> int | None:
        """Ask the latest due round of the need if nobody was asked in it yet; returns the
        round asked, or None. Call inside a transaction."""
        need = await outcomes.lock_need(connection, need_id)
        if need is None or need.closes_at is None or need.buyer_id is None:
            return None
        rounds = due_rounds(need.closes_at, now)
        if not rounds:
            return None
        if need.has_outcome or need.status not in {"open", "closed"}:
            for days in rounds:
                await outcomes.handle_round(connection, need_id, days, asked=False)
            return None
        # A round missed (the worker was down) is not asked late: the next one asks instead,
        # rather than two questions in a row.
        for days in rounds[:-1]:
            await outcomes.handle_round(connection, need_id, days, asked=False)
        latest = rounds[-1]
        if not await outcomes.handle_round(connection, need_id, latest, asked=True):
            return None
        question_id = await outcomes.record_question(connection, need_id, latest, need.buyer_id)
        if question_id is not None and self.notifier.settings.smtp_host:
            # Queued in this transaction: the question and its e-mail commit (or vanish)
            # together, and a worker dying before the send leaves the job to run again.
            await jobs.enqueue(connection, outcomes.BUYER_QUESTION_EMAIL_JOB, question_id)
        for supplier_id, organisation_id in await outcomes.interested_suppliers(
            connection, need_id
        ):
            notification_id = await self.notifier.outcome_question(
                connection, supplier_id, need_id, need.title, latest
            )
            await outcomes.record_question(
                connection,
                need_id,
                latest,
                organisation_id,
                supplier_id=supplier_id,
                notification_id=notification_id,
            )
        return latest
