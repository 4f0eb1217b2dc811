"""Fixtures of the page tests: the demo data set loaded into this test's database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from web_testkit import RunningDemo, running_demo

from asfmatch.demo import demo_data
from asfmatch.importing import ImportResult, import_file


@pytest.fixture
async def demo_world(db: asyncpg.Connection) -> ImportResult:
    """Buyers, ASFs and needs of the packaged demo, ids by key; unranked (no worker runs)."""
    result = await import_file(db, demo_data(), None)
    assert not result.rejected
    return result


@pytest.fixture
async def demo(database_url: str, redis_url: str, tmp_path: Path) -> AsyncIterator[RunningDemo]:
    """`asfmatch demo` on a free port against this test's database."""
    async with running_demo(database_url, redis_url, tmp_path) as (started, _):
        yield started
