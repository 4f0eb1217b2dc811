"""The worker process: claims jobs from PostgreSQL, runs them, and never loses one.

Several workers may run at once; FOR UPDATE SKIP LOCKED hands each job to one of them. A worker
renews its lease while a job runs; if it dies, even by SIGKILL, the lease runs out and another
worker takes the job over. A failed job is retried with backoff. Within one worker, each lane
of workers/registry.py runs its own slots, scheduled tasks run on their own clock, and the
LISTEN connection that wakes idle slots reconnects when PostgreSQL restarts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from typing import Any

import asyncpg

from asfmatch.storage import jobs
from asfmatch.storage.db import connect, create_pool
from asfmatch.storage.jobs import Job
from asfmatch.storage.settings import Settings
from asfmatch.workers import housekeeping
from asfmatch.workers.email import Mailer
from asfmatch.workers.notices import NoticeFetcher
from asfmatch.workers.outcomes import FollowUps
from asfmatch.workers.ranking import Ranker
from asfmatch.workers.registry import LANES, Handlers, JobKind, job_kinds, scheduled_tasks
from asfmatch.workers.webhooks import Deliverer

log = logging.getLogger(__name__)

# What a lost or restarting database raises; the worker waits and tries again, never exits.
UNAVAILABLE = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
)
CHANNEL = "asfmatch_jobs"


class Worker:
    """Runs jobs of the kinds in the registry until told to stop."""

    def __init__(self, settings: Settings, database_url: str) -> None:
        self.settings = settings
        self.database_url = database_url
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.ranker = Ranker(settings)
        self.fetcher = NoticeFetcher(settings)
        self.follow_ups = FollowUps(self.ranker.notifier)
        mailer = Mailer(settings)
        handlers = Handlers(
            rank_need=lambda pool, job: self.ranker.rank_need(pool, job.entity_id),
            rank_supplier=lambda pool, job: self.ranker.rank_supplier(pool, job.entity_id),
            digest=self.ranker.notifier.run_digest,
            email=mailer.run,
            webhook=Deliverer(settings, self.ranker.notifier).run,
            fetch_notices=self.fetcher.run,
            schedule_notice_fetch=self.fetcher.ensure_scheduled,
            close_deadlines=housekeeping.close_deadlines,
            lapse_verifications=lambda pool: housekeeping.lapse_verifications(pool, settings),
            follow_up=self.follow_ups.run,
            buyer_question_email=mailer.run_buyer_question,
            schedule_follow_ups=self.follow_ups.schedule,
            reconcile=lambda pool: housekeeping.reconcile(pool, self.ranker),
            retention=lambda pool: housekeeping.prune(pool, settings),
        )
        self.kinds: dict[str, JobKind] = job_kinds(settings, handlers)
        self.schedule = scheduled_tasks(settings, handlers)
        self._wakes: list[asyncio.Event] = []
        self._listener_lost = asyncio.Event()
        self.listener_connects = 0
        self.processed = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set; jobs in progress are finished first."""
        pool = await create_pool(self.database_url, self.settings)
        listener: list[asyncpg.Connection] = []
        log.info("worker %s started", self.worker_id)
        tasks = [
            asyncio.create_task(self._slot(pool, lane, stop), name=f"{lane}-{n}")
            for lane, slots in LANES.items()
            for n in range(slots)
        ]
        helpers = [
            asyncio.create_task(self._keep_listening(listener, stop), name="listener"),
            asyncio.create_task(self._run_schedule(pool, stop), name="schedule"),
        ]
        try:
            await stop.wait()
            await asyncio.gather(*tasks, *helpers, return_exceptions=True)
        finally:
            for task in [*tasks, *helpers]:
                task.cancel()
            await asyncio.gather(*tasks, *helpers, return_exceptions=True)
            for connection in listener:
                with contextlib.suppress(Exception):
                    await connection.close()
            await pool.close()
            log.info("worker %s stopped after %d jobs", self.worker_id, self.processed)

    def _kinds_of(self, lane: str) -> list[str]:
        return [kind.name for kind in self.kinds.values() if kind.lane == lane]

    async def _slot(self, pool: asyncpg.Pool, lane: str, stop: asyncio.Event) -> None:
        """One slot of a lane: run its jobs one after another; sleep until woken when idle."""
        wake = asyncio.Event()
        self._wakes.append(wake)
        kinds = self._kinds_of(lane)
        while not stop.is_set():
            # Clear before looking for work: a NOTIFY that lands while we look must still
            # wake the wait below, or its job would sit until the next poll.
            wake.clear()
            try:
                if await self.run_one(pool, kinds):
                    continue
            except UNAVAILABLE as error:
                log.warning("database unavailable (%s); retrying in 1 s", error)
                await _wait(stop, None, 1.0)
                continue
            except Exception:
                # A bug in claiming or recording must not silently retire this slot.
                log.exception("%s slot failed outside a job; retrying in 1 s", lane)
                await _wait(stop, None, 1.0)
                continue
            # NOTIFY wakes us at commit time; the poll also catches retries that fall due.
            await _wait(stop, wake, self.settings.worker_poll_seconds)

    def _wake_all(self, *_: Any) -> None:
        for wake in self._wakes:
            wake.set()

    async def _keep_listening(self, held: list[asyncpg.Connection], stop: asyncio.Event) -> None:
        """Hold a LISTEN connection; when it is lost (PostgreSQL restarted), open a new one."""
        while not stop.is_set():
            try:
                connection = await connect(self.database_url)
                self._listener_lost.clear()
                connection.add_termination_listener(lambda _: self._listener_lost.set())
                await connection.add_listener(CHANNEL, self._wake_all)
            except Exception as error:  # unreachable, refusing, starting up: keep trying
                log.warning("job listener cannot connect (%s); retrying in 1 s", error)
                await _wait(stop, None, 1.0)
                continue
            held[:] = [connection]
            self.listener_connects += 1
            if self.listener_connects > 1:
                log.warning("job listener reconnected after losing its PostgreSQL connection")
            # Look again once LISTEN holds: the slots' first look may have come before it, and a
            # job committed in between (or while we were deaf) sent its NOTIFY to nobody.
            self._wake_all()
            while not stop.is_set() and not self._listener_lost.is_set():
                await _wait(stop, self._listener_lost, self.settings.worker_poll_seconds)
                if connection.is_closed():
                    break
                with contextlib.suppress(*UNAVAILABLE, TimeoutError):
                    # A cheap round trip notices a connection the server dropped silently.
                    async with asyncio.timeout(5):
                        await connection.execute("SELECT 1")
                    continue
                break
            with contextlib.suppress(Exception):
                await connection.close(timeout=1)
            if not stop.is_set():
                log.warning("job listener lost its PostgreSQL connection; reconnecting")

    async def _run_schedule(self, pool: asyncpg.Pool, stop: asyncio.Event) -> None:
        """Run each scheduled task when it falls due (each first at start-up)."""
        due = {task.name: 0.0 for task in self.schedule}
        while not stop.is_set():
            for task in self.schedule:
                if time.monotonic() < due[task.name] or stop.is_set():
                    continue
                due[task.name] = time.monotonic() + task.every_seconds
                try:
                    async with asyncio.timeout(task.timeout_seconds):
                        await task.run(pool)
                except UNAVAILABLE as error:
                    log.warning("%s skipped: database unavailable (%s)", task.name, error)
                    due[task.name] = time.monotonic() + 1.0
                except Exception:
                    log.exception("scheduled task %s failed", task.name)
            pause = min(due.values()) - time.monotonic()
            await _wait(stop, None, max(0.05, pause))

    async def run_one(self, pool: asyncpg.Pool, kinds: list[str] | None = None) -> bool:
        """Claim and run one job of `kinds` (default: every kind); False when none is due."""
        async with pool.acquire() as connection:
            job = await jobs.claim(
                connection,
                self.worker_id,
                self.settings.job_lease_seconds,
                list(self.kinds) if kinds is None else kinds,
            )
        if job is None:
            return False
        kind = self.kinds[job.kind]
        heartbeat = asyncio.create_task(self._keep_lease(pool, job))
        try:
            async with asyncio.timeout(kind.timeout_seconds):
                await kind.handler(pool, job)
        except Exception as error:
            heartbeat.cancel()
            if isinstance(error, TimeoutError):
                error = TimeoutError(f"{job.kind} took longer than {kind.timeout_seconds:g} s")
            log.exception(
                "job %s %s(%s) failed (attempt %d)", job.id, job.kind, job.entity_id, job.attempts
            )
            async with pool.acquire() as connection:
                await jobs.fail(
                    connection,
                    job,
                    self.worker_id,
                    f"{type(error).__name__}: {error}",
                    max_attempts=kind.attempts,
                )
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


async def _wait(stop: asyncio.Event, wake: asyncio.Event | None, seconds: float) -> None:
    """Until `stop` or `wake` is set, or `seconds` pass."""
    waiters = [asyncio.ensure_future(stop.wait())]
    if wake is not None:
        waiters.append(asyncio.ensure_future(wake.wait()))
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
