"""`fetch-notices`: Swedish TED notices page by page, each imported as it arrives, and a record
of where the run got to, so the next run resumes there instead of starting over."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

import msgspec

from asfmatch.notices.importing import ImportReport, import_notice
from asfmatch.notices.reading import Document, parse_document
from asfmatch.notices.screening import Skip
from asfmatch.notices.ted import TedClient, TedPage, TedRejected, TedUnavailable, search_query
from asfmatch.storage import notices as repo
from asfmatch.storage.db import Connection

log = logging.getLogger(__name__)


class FetchResult(msgspec.Struct, kw_only=True):
    """What one run did: its id, pages read, and the import report of every notice in them."""

    run_id: int
    query: str
    resumed: bool
    pages: int = 0
    report: ImportReport = msgspec.field(default_factory=ImportReport)


class FetchBusy(Exception):
    """Another run holds the fetch lock."""


PageProgress = Callable[[int, TedPage], None]


async def _plan(
    connection: Connection, since: date | None, cpv: Sequence[str], today: date, first_days: int
) -> tuple[repo.FetchRun, bool, str | None]:
    """(run, resumed, token): continue an unfinished run of the same query, else start anew
    from `since`, or from where the last finished run saw its newest notice."""
    last = await repo.last_run(connection)
    if since is None:
        if last is not None and last.state != "done":
            return last, True, last.next_token
        since = (
            (last.last_published or last.since)
            if last is not None
            else today - timedelta(days=first_days)
        )
    query = search_query(since, cpv)
    if last is not None and last.state != "done" and last.query == query:
        return last, True, last.next_token
    return await repo.start_run(connection, query, since), False, None


async def _import_hit(
    connection: Connection, client: TedClient, page: TedPage, now: datetime, result: FetchResult
) -> None:
    for hit in page.hits:
        name = f"TED {hit.publication_number}"
        try:
            raw = await client.notice_xml(hit)
        except TedRejected as error:
            # One missing notice must not stop the run; it is reported and the rest go on.
            result.report.skipped.append(Skip(file=name, reason=f"not downloaded: {error}"))
            continue
        result.report.documents += 1
        for parsed in parse_document(Document(name, raw)):
            if isinstance(parsed, Skip):
                result.report.notices += 1
                result.report.skipped.append(parsed)
            else:
                result.report.add(await import_notice(connection, parsed, name, now))


async def fetch_notices(
    connection: Connection,
    client: TedClient,
    *,
    since: date | None,
    cpv: Sequence[str],
    now: datetime,
    first_days: int = 7,
    limit: int = 250,
    max_pages: int | None = None,
    progress: PageProgress | None = None,
) -> FetchResult:
    """Fetch and import until TED has no more pages (or `max_pages`); raise TedUnavailable
    when TED cannot be reached, after recording how far the run got, and FetchBusy when
    another fetch is running."""
    if not await repo.try_lock_fetching(connection):
        raise FetchBusy("another fetch-notices run is in progress")
    try:
        return await _fetch(
            connection, client, since, cpv, now, first_days, limit, max_pages, progress
        )
    finally:
        await repo.unlock_fetching(connection)


async def _fetch(
    connection: Connection,
    client: TedClient,
    since: date | None,
    cpv: Sequence[str],
    now: datetime,
    first_days: int,
    limit: int,
    max_pages: int | None,
    progress: PageProgress | None,
) -> FetchResult:
    run, resumed, token = await _plan(connection, since, cpv, now.date(), first_days)
    if resumed:
        log.info("resuming notice fetch run %d (%s)", run.id, run.query)
    result = FetchResult(run_id=run.id, query=run.query, resumed=resumed)
    try:
        while max_pages is None or result.pages < max_pages:
            try:
                page = await client.search(run.query, token, limit)
            except TedRejected:
                if token is None:
                    raise
                # Iteration tokens expire; imports are idempotent, so start the query over.
                log.warning("TED refused the saved iteration token; starting run %d over", run.id)
                token = None
                continue
            before = (len(result.report.created), len(result.report.skipped), result.report.notices)
            await _import_hit(connection, client, page, now, result)
            result.pages += 1
            token = page.next_token
            published = [hit.published for hit in page.hits if hit.published is not None]
            await repo.record_page(
                connection,
                run.id,
                next_token=token,
                notices=len(page.hits),
                imported=len(result.report.created) - before[0],
                skipped=len(result.report.skipped) - before[1],
                last_published=max(published, default=None),
            )
            if progress is not None:
                progress(result.pages, page)
            if token is None or not page.hits:
                await repo.finish_run(connection, run.id, None)
                return result
    except TedUnavailable as error:
        await repo.finish_run(connection, run.id, str(error))
        raise
    # Stopped by max_pages: the run stays unfinished, and the next one resumes from `token`.
    return result
