"""`fetch-notices` against a local fake of the TED Search API: paging by iteration token,
resuming after TED goes down, an expired token, the scheduled worker job, and offline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
import httpx
import msgspec
import pytest
from ted_fake import FakeTed, fake_ted_fixture  # noqa: F401 - fixture, found by pytest by name

from asfmatch.notices.fetching import FetchBusy, FetchResult, fetch_notices
from asfmatch.notices.ted import TedClient, TedUnavailable, search_query
from asfmatch.storage import notices as repo
from asfmatch.storage.db import create_pool
from asfmatch.storage.settings import Settings
from asfmatch.workers.notices import FETCH_JOB, NoticeFetcher
from notifications.notify_testkit import free_port
from testkit import drain, run_asfmatch

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
SINCE = date(2026, 11, 1)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


async def _fetch(
    db: asyncpg.Connection,
    ted: FakeTed,
    http: httpx.AsyncClient,
    *,
    since: date | None = SINCE,
    max_pages: int | None = None,
) -> FetchResult:
    client = TedClient(http, ted.search_url)
    return await fetch_notices(db, client, since=since, cpv=[], now=NOW, max_pages=max_pages)


def test_the_query_asks_for_swedish_buyers_since_a_date_and_cpv_prefixes() -> None:
    assert search_query(date(2026, 11, 1), ["9091", "555"]) == (
        "buyer-country=SWE AND publication-date>=20261101 "
        "AND (classification-cpv=9091* OR classification-cpv=555*) SORT BY publication-number ASC"
    )


async def test_fetching_pages_through_the_iteration_tokens_and_imports_every_notice(
    db: asyncpg.Connection, ted: FakeTed, http: httpx.AsyncClient
) -> None:
    result = await _fetch(db, ted, http)
    assert [search.get("iterationNextToken") for search in ted.searches] == [
        None,
        "token-1",
        "token-2",
    ]
    first = ted.searches[0]
    assert first["paginationMode"] == "ITERATION" and first["limit"] == 250
    assert first["query"].startswith("buyer-country=SWE AND publication-date>=20261101")
    assert "links" in first["fields"] and "publication-number" in first["fields"]
    assert result.pages == 3 and not result.resumed
    assert len(result.report.created) == 4  # Luleå, Norrbotten x2, Dalarna
    assert len(result.report.updated) == 1  # the Luleå change notice
    (skip,) = result.report.skipped
    assert skip.file == "TED 700004-2026" and skip.reason.startswith("not Swedish")
    run = await repo.last_run(db)
    assert run is not None and run.state == "done" and run.pages == 3
    assert run.notices == 5 and run.last_published == date(2026, 11, 27)
    link = await db.fetchval(
        "SELECT notice_url FROM needs WHERE procedure_id = 'c1a2b3c4-2222-4d5e-8f9a-000000000002' "
        "LIMIT 1"
    )
    assert link == "https://ted.europa.eu/en/notice/-/detail/700002-2026"


async def test_a_run_cut_short_by_ted_going_down_resumes_at_the_page_it_stopped_at(
    db: asyncpg.Connection, ted: FakeTed, http: httpx.AsyncClient
) -> None:
    ted.fail_page_once = 1
    with pytest.raises(TedUnavailable, match="503"):
        await _fetch(db, ted, http)
    failed = await repo.last_run(db)
    assert failed is not None and failed.state == "failed" and failed.next_token == "token-1"
    assert failed.pages == 1 and failed.error is not None and "503" in failed.error
    downloaded_before = list(ted.downloads)
    ted.searches.clear()
    result = await _fetch(db, ted, http, since=None)
    assert result.resumed and result.run_id == failed.id
    assert ted.searches[0]["iterationNextToken"] == "token-1"
    # Page 1 was not fetched again.
    assert set(ted.downloads[len(downloaded_before) :]) == {
        "700003-2026",
        "700004-2026",
        "700101-2026",
    }
    done = await repo.last_run(db)
    assert done is not None and done.state == "done" and done.pages == 3


async def test_max_pages_stops_early_and_the_next_run_continues(
    db: asyncpg.Connection, ted: FakeTed, http: httpx.AsyncClient
) -> None:
    first = await _fetch(db, ted, http, max_pages=1)
    assert first.pages == 1 and len(first.report.created) == 3
    second = await _fetch(db, ted, http)
    assert second.resumed and second.run_id == first.run_id
    assert second.pages == 2


async def test_an_expired_token_starts_the_query_over_without_duplicating_needs(
    db: asyncpg.Connection, ted: FakeTed, http: httpx.AsyncClient
) -> None:
    await _fetch(db, ted, http, max_pages=1)
    ted.reject_tokens = True
    ted.pages = ted.pages[:1]  # TED's answer now fits on one page
    result = await _fetch(db, ted, http)
    assert result.resumed and result.report.created == []
    assert len(result.report.unchanged) == 3
    assert await db.fetchval("SELECT count(*) FROM needs") == 3


async def test_a_finished_run_makes_the_next_start_from_the_newest_notice_it_saw(
    db: asyncpg.Connection, ted: FakeTed, http: httpx.AsyncClient
) -> None:
    await _fetch(db, ted, http)
    ted.searches.clear()
    again = await _fetch(db, ted, http, since=None)
    assert not again.resumed
    assert "publication-date>=20261127" in ted.searches[0]["query"]
    assert again.report.created == []


async def test_two_fetches_at_once_are_refused_rather_than_doubled(
    db: asyncpg.Connection, database_url: str, ted: FakeTed, http: httpx.AsyncClient
) -> None:
    other = await asyncpg.connect(database_url)
    try:
        assert await repo.try_lock_fetching(other)
        with pytest.raises(FetchBusy):
            await _fetch(db, ted, http)
    finally:
        await other.close()
    assert ted.searches == []


async def test_the_worker_fetches_on_a_schedule_when_the_setting_is_on(
    db: asyncpg.Connection, settings: Settings, ted: FakeTed
) -> None:
    assert settings.database_url is not None
    off = NoticeFetcher(settings)
    on_settings = msgspec.structs.replace(
        settings, ted_fetch_enabled=True, ted_search_url=ted.search_url, ted_first_fetch_days=60
    )
    pool = await create_pool(settings.database_url, settings)
    try:
        await off.ensure_scheduled(pool)
        assert await db.fetchval("SELECT count(*) FROM jobs WHERE kind = $1", FETCH_JOB) == 0
        await NoticeFetcher(on_settings).ensure_scheduled(pool)
        await NoticeFetcher(on_settings).ensure_scheduled(pool)  # idempotent
    finally:
        await pool.close()
    assert await db.fetchval("SELECT count(*) FROM jobs WHERE kind = $1", FETCH_JOB) == 1
    await drain(on_settings)
    assert await db.fetchval("SELECT count(*) FROM needs WHERE source = 'ted'") == 4
    later = await db.fetchval(
        "SELECT run_at - now() > interval '5 hours' FROM jobs WHERE kind = $1 AND state = 'queued'",
        FETCH_JOB,
    )
    assert later is True


def test_fetch_notices_pages_and_resumes_through_the_command(
    database_url: str, redis_url: str, tmp_path: Path, ted: FakeTed, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASFMATCH_TED_SEARCH_URL", ted.search_url)
    first = run_asfmatch(
        ["fetch-notices", "--since", "2026-11-01", "--max-pages", "1"],
        database_url,
        redis_url,
        tmp_path,
    )
    assert first.returncode == 0, first.stderr
    assert "page 1: 2 notice(s) of 5" in first.stderr
    assert "3 need(s) created (1 reserved)" in first.stdout
    second = run_asfmatch(["fetch-notices"], database_url, redis_url, tmp_path)
    assert second.returncode == 0, second.stderr
    assert "(resumed), 2 page(s)" in second.stdout
    assert "skipped TED 700004-2026" in second.stderr


def test_fetch_notices_offline_says_so_and_exits_non_zero(
    database_url: str, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "ASFMATCH_TED_SEARCH_URL", f"http://127.0.0.1:{free_port()}/v3/notices/search"
    )
    done = run_asfmatch(
        ["fetch-notices", "--since", "2026-11-01"], database_url, redis_url, tmp_path
    )
    assert done.returncode == 1
    assert "cannot reach TED" in done.stderr and "offline" in done.stderr
    assert "Traceback" not in done.stderr


def test_fetch_notices_refuses_a_bad_date_or_cpv_prefix(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    bad_date = run_asfmatch(
        ["fetch-notices", "--since", "1 nov"], database_url, redis_url, tmp_path
    )
    assert bad_date.returncode == 2 and "YYYY-MM-DD" in bad_date.stderr
    bad_cpv = run_asfmatch(["fetch-notices", "--cpv", "städ"], database_url, redis_url, tmp_path)
    assert bad_cpv.returncode == 2 and "--cpv" in bad_cpv.stderr
