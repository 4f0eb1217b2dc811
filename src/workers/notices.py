"""The scheduled TED fetch: when ASFMATCH_TED_FETCH_ENABLED is on, one `fetch_notices` job is
always queued; it fetches what TED published since the last run, then queues the next one."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import asyncpg

from asfmatch.notices.fetching import FetchBusy, fetch_notices
from asfmatch.notices.ted import TedClient, TedUnavailable, http_client
from asfmatch.storage import notices as repo
from asfmatch.storage.jobs import Job
from asfmatch.storage.settings import Settings

log = logging.getLogger(__name__)

FETCH_JOB = repo.FETCH_JOB


class NoticeFetcher:
    """Runs the scheduled fetch job."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def interval_seconds(self) -> float:
        """Seconds between scheduled fetches."""
        return self.settings.ted_fetch_interval_hours * 3600

    async def ensure_scheduled(self, pool: asyncpg.Pool) -> None:
        """Queue the first fetch when fetching is on and none is queued (housekeeping)."""
        if not self.settings.ted_fetch_enabled:
            return
        async with pool.acquire() as connection:
            if await repo.schedule_fetch(connection, 0):
                log.info("scheduled the TED notice fetch")

    async def run(self, pool: asyncpg.Pool, job: Job) -> None:
        """Fetch and import; TED being down is logged and waits for the next run (the run
        record keeps its place), so it never burns the job's retries."""
        if not self.settings.ted_fetch_enabled:
            return
        try:
            async with (
                pool.acquire() as connection,
                http_client(self.settings.ted_timeout_seconds) as http,
            ):
                result = await fetch_notices(
                    connection,
                    TedClient(http, self.settings.ted_search_url),
                    since=None,
                    cpv=self.settings.ted_fetch_cpv,
                    now=datetime.now(UTC),
                    first_days=self.settings.ted_first_fetch_days,
                )
                log.info("TED fetch run %d: %s", result.run_id, result.report.summary())
        except TedUnavailable as error:
            log.warning("TED fetch failed, will resume at the next run: %s", error)
        except FetchBusy:
            log.info("a TED fetch is already running; skipping this one")
        finally:
            async with pool.acquire() as connection:
                await repo.schedule_next_fetch(connection, self.interval_seconds)
