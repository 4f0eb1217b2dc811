"""Helpers the tests import (conftest modules shadow each other, so none are imported)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from litestar.testing import AsyncTestClient

from asfmatch.reference.org_numbers import luhn_check_digit
from asfmatch.storage.db import Connection, create_pool
from asfmatch.storage.organisations import create_api_key, create_organisation
from asfmatch.storage.settings import Settings
from asfmatch.workers.runner import Worker


def with_database(url: str, name: str) -> str:
    """The same server URL, pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


class Keys:
    """Organisations with keys, made straight in the database for speed."""

    def __init__(self, db: Connection) -> None:
        self.db = db
        self._serial = 0

    async def make(self, kind: str, name: str | None = None) -> tuple[int, dict[str, str]]:
        """A new organisation of `kind` and auth headers for one of its keys."""
        self._serial += 1
        first_nine = f"{(uuid.uuid4().int % 10**9):09d}"
        number = first_nine + str(luhn_check_digit(first_nine))
        organisation = await create_organisation(
            self.db,
            kind=kind,  # type: ignore[arg-type]
            name=name or f"{kind} {self._serial}",
            org_number=f"{number[:6]}-{number[6:]}",
        )
        _, secret = await create_api_key(self.db, organisation.id, "test")
        return organisation.id, {"Authorization": f"Bearer {secret}"}


async def drain(settings: Settings) -> int:
    """Run every due job with a fresh worker; returns how many ran."""
    assert settings.database_url is not None
    worker = Worker(settings, settings.database_url)
    pool = await create_pool(settings.database_url, settings)
    try:
        return await worker.drain(pool)
    finally:
        await pool.close()


def run_asfmatch(
    args: list[str], database_url: str, redis_url: str, data_dir: Path
) -> subprocess.CompletedProcess[str]:
    """Run the `asfmatch` command against the given servers, as an operator would."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "ASFMATCH_DATA_DIR": str(data_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "asfmatch", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


async def post_supplier(
    client: AsyncTestClient,  # type: ignore[type-arg]
    keys: Keys,
    name: str,
    profile: dict[str, Any],
) -> tuple[int, dict[str, str]]:
    """A supplier organisation with a key that posts its own profile through the API; the
    profile's id and the supplier's auth headers."""
    organisation_id, headers = await keys.make("supplier", name)
    number = await keys.db.fetchval(
        "SELECT org_number FROM organisations WHERE id = $1", organisation_id
    )
    response = await client.post(
        "/api/v1/suppliers",
        json={"name": name, "org_number": number, **profile},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"]), headers
