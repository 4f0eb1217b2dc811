"""The worker process: claims jobs from PostgreSQL, runs them, and never loses one.

Several workers may run at once; FOR UPDATE SKIP LOCKED hands each job to one of them. A worker
renews its lease while a job runs; if it dies, even by SIGKILL, the lease runs out and another
worker takes the job over. A failed job is retried with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from asfmatch.storage import jobs, notifications, webhooks
from asfmatch.storage.db import connect, create_pool
from asfmatch.storage.jobs import Job
from asfmatch.storage.settings import Settings
from asfmatch.workers.deadlines import close_expired_needs
from asfmatch.workers.email import Mailer
from asfmatch.workers.notices import FETCH_JOB, NoticeFetcher
from asfmatch.workers.ranking import Ranker
from asfmatch.workers.webhooks import Deliverer

log = logging.getLogger(__name__)

Handler = Callable[[asyncpg.Pool, Job], Awaitable[None]]


class Worker:
    """Runs jobs of the kinds it has handlers for until told to stop."""

    def __init__(self, settings: Settings, database_url: str) -> None:
        self.settings = settings
        self.database_url = database_url
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.ranker = Ranker(settings)
        self.fetcher = NoticeFetcher(settings)
        self.handlers: dict[str, Handler] = {
            jobs.RANK_NEED: lambda pool, job: self.ranker.rank_need(pool, job.entity_id),
            jobs.RANK_SUPPLIER: lambda pool, job: self.ranker.rank_supplier(pool, job.entity_id),
            notifications.DIGEST_JOB: self.ranker.notifier.run_digest,
            notifications.EMAIL_JOB: Mailer(settings).run,
            webhooks.DELIVERY_JOB: Deliverer(settings, self.ranker.notifier).run,
            FETCH_JOB: self.fetcher.run,
        }
        self._wake = asyncio.Event()
        self._next_housekeeping = 0.0
        self.processed = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set; a job in progress is finished first."""
        pool = await create_pool(self.database_url, self.settings)
        listener = await connect(self.database_url)
        await listener.add_listener("asfmatch_jobs", self._on_notify)
        log.info("worker %s started", self.worker_id)
        try:
            while not stop.is_set():
                # Clear before looking for work: a NOTIFY that lands while we look must still
                # wake the wait below, or its job would sit until the next poll.
                self._wake.clear()
                try:
                    if await self.run_one(pool):
                        continue
                    await self._housekeeping(pool)
                except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError) as error:
                    # PostgreSQL restarting or unreachable: wait and try again, never exit.
                    log.warning("database unavailable (%s); retrying in 1 s", error)
                    await asyncio.sleep(1)
                    continue
                stopping = asyncio.ensure_future(stop.wait())
                waking = asyncio.ensure_future(self._wake.wait())
                # NOTIFY wakes us at commit time; the poll also catches retries that fall due.
                await asyncio.wait(
                    {stopping, waking},
                    timeout=self.settings.worker_poll_seconds,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                stopping.cancel()
                waking.cancel()
        finally:
            with contextlib.suppress(Exception):
                await listener.close()
            await pool.close()
            log.info("worker %s stopped after %d jobs", self.worker_id, self.processed)

    async def _housekeeping(self, pool: asyncpg.Pool) -> None:
        """Between jobs, at most once a minute: close needs whose deadline has passed, and make
        sure the scheduled TED fetch is queued when it is turned on."""
        now = time.monotonic()
        if now < self._next_housekeeping:
            return
        self._next_housekeeping = now + 60
        async with pool.acquire() as connection:
            closed = await close_expired_needs(connection)
        if closed:
            log.info("closed %d need(s) past their deadline", len(closed))
        await self.fetcher.ensure_scheduled(pool)

    def _on_notify(self, *_: Any) -> None:
        self._wake.set()

    async def run_one(self, pool: asyncpg.Pool) -> bool:
        """Claim and run one job; False when none is due."""
        async with pool.acquire() as connection:
            job = await jobs.claim(
                connection, self.worker_id, self.settings.job_lease_seconds, list(self.handlers)
            )
        if job is None:
            return False
        heartbeat = asyncio.create_task(self._keep_lease(pool, job))
        try:
            await self.handlers[job.kind](pool, job)
        except Exception as error:
            heartbeat.cancel()
            log.exception(
                "job %s %s(%s) failed (attempt %d)", job.id, job.kind, job.entity_id, job.attempts
            )
            async with pool.acquire() as connection:
                await jobs.fail(connection, job, self.worker_id, f"{type(error).__name__}: {error}")
            return True
        heartbeat.cancel()
        async with pool.acquire() as connection:
            if not await jobs.complete(connection, job.id, self.worker_id):
                log.warning("job %s was taken over by another worker before it finished", job.id)
        self.processed += 1
        return True

    async def _keep_lease(self, pool: asyncpg.Pool, job: Job) -> None:
        interval = self.settings.job_lease_seconds / 3
        while True:
            await asyncio.sleep(interval)
            async with pool.acquire() as connection:
                if not await jobs.extend_lease(
                    connection, job.id, self.worker_id, self.settings.job_lease_seconds
                ):
                    return

    async def drain(self, pool: asyncpg.Pool, limit: int = 10_000) -> int:
        """Run due jobs until none is left (for tests, the CLI and benchmarks); returns the count."""
        done = 0
        while done < limit and await self.run_one(pool):
            done += 1
        return done
