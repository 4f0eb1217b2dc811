"""The worker's scheduled tasks: close needs past their deadline, lapse verifications past
their last valid day, reconcile stored lists with
the profiles and needs they describe, and prune what is kept only for a while."""

from __future__ import annotations

import logging

import asyncpg

from asfmatch.services.verifications import lapse_expired
from asfmatch.storage import jobs, matches, retention
from asfmatch.storage.settings import Settings
from asfmatch.workers.deadlines import close_expired_needs
from asfmatch.workers.ranking import Ranker, retry_conflicts

log = logging.getLogger(__name__)


async def close_deadlines(pool: asyncpg.Pool) -> None:
    """Close every open need whose deadline has passed (they leave every list)."""
    async with pool.acquire() as connection:
        closed = await retry_conflicts(lambda: close_expired_needs(connection))
    if closed:
        log.info("closed %d need(s) past their deadline", len(closed))


async def lapse_verifications(pool: asyncpg.Pool, settings: Settings) -> None:
    """Lapse verifications past their last valid day (their suppliers are ranked again when
    reserved contracts require a verification)."""
    async with pool.acquire() as connection:
        lapsed = await retry_conflicts(lambda: lapse_expired(connection, settings))
    if lapsed:
        log.info("%d verification(s) lapsed with time", len(lapsed))


async def reconcile(pool: asyncpg.Pool, ranker: Ranker) -> None:
    """The safety net under the index's change tracking: pairs of closed needs or inactive
    suppliers leave the lists (and those lists are refilled), and this worker rebuilds its
    index from PostgreSQL at its next ranking."""
    ranker.reconcile()
    async with pool.acquire() as connection:
        needs, suppliers = await matches.stale_owners(connection)
        for need_id in needs:

            async def forget_need(need_id: int = need_id) -> None:
                async with connection.transaction():
                    for supplier_id in await matches.forget_need(connection, need_id):
                        await jobs.enqueue(connection, jobs.RANK_SUPPLIER, supplier_id)

            await retry_conflicts(forget_need)
        for supplier_id in suppliers:

            async def forget_supplier(supplier_id: int = supplier_id) -> None:
                async with connection.transaction():
                    for need_id in await matches.forget_supplier(connection, supplier_id):
                        await jobs.enqueue(connection, jobs.RANK_NEED, need_id)

            await retry_conflicts(forget_supplier)
    if needs or suppliers:
        log.warning(
            "reconcile removed stale pairs of %d need(s) and %d supplier(s)",
            len(needs),
            len(suppliers),
        )


async def prune(pool: asyncpg.Pool, settings: Settings) -> None:
    """Delete finished jobs, settled webhook messages and old counters past their retention."""
    async with pool.acquire() as connection:
        removed = await retention.prune(
            connection,
            jobs_days=settings.retention_jobs_days,
            webhook_days=settings.retention_webhook_days,
            counter_days=settings.retention_counter_days,
        )
    if any(removed.values()):
        log.info("retention removed %s", ", ".join(f"{n} {what}" for what, n in removed.items()))
