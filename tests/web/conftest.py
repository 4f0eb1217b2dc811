"""Fixtures of the page tests: the demo data set loaded into this test's database."""

from __future__ import annotations

import asyncpg
import pytest

from asfmatch.demo import demo_data
from asfmatch.importing import ImportResult, import_file


@pytest.fixture
async def demo_world(db: asyncpg.Connection) -> ImportResult:
    """Buyers, ASFs and needs of the packaged demo, ids by key; unranked (no worker runs)."""
    result = await import_file(db, demo_data(), None)
    assert not result.rejected
    return result
