"""Helpers for the worker tests: profiles and needs straight in the database, and a drain."""

from __future__ import annotations

from typing import Any

import asyncpg

from asfmatch.storage.db import create_pool
from asfmatch.storage.settings import Settings
from asfmatch.workers.runner import Worker
from testkit import Keys

CLEANING = (
    "Vi utför städning av kontor, trapphus och skolor. Arbetsträning för personer långt från "
    "arbetsmarknaden."
)


async def make_supplier(
    keys: Keys, name: str, *, description: str = CLEANING, cpv: str = "90910000"
) -> int:
    """A supplier organisation and active profile serving Luleå (2580)."""
    organisation_id, _ = await keys.make("supplier", name)
    supplier_id: int = await keys.db.fetchval(
        """
        INSERT INTO supplier_profiles (organisation_id, legal_form, description, cpv_codes,
                                       service_area, employees, target_group_share)
        VALUES ($1, 'ekonomisk_forening', $2, $3, '{2580}', 12, 0.6) RETURNING id
        """,
        organisation_id,
        description,
        [cpv],
    )
    return supplier_id


async def make_need(keys: Keys, buyer_id: int, **extra: Any) -> int:
    """An open cleaning need in Luleå; `extra` overrides columns (e.g. closes_at)."""
    fields: dict[str, Any] = {
        "title": "Lokalvård av förskolor",
        "description": "Städning av tre förskolor, daglig lokalvård och fönsterputs.",
        "cpv_codes": ["90919200"],
        "kommun": "2580",
        **extra,
    }
    columns = ", ".join(fields)
    placeholders = ", ".join(f"${i}" for i in range(2, len(fields) + 2))
    need_id: int = await keys.db.fetchval(
        f"INSERT INTO needs (buyer_id, {columns}) VALUES ($1, {placeholders}) RETURNING id",
        buyer_id,
        *fields.values(),
    )
    return need_id


async def drain(settings: Settings) -> int:
    """Run every due job with a fresh worker; returns how many ran."""
    assert settings.database_url is not None
    worker = Worker(settings, settings.database_url)
    pool = await create_pool(settings.database_url, settings)
    try:
        return await worker.drain(pool)
    finally:
        await pool.close()


async def need_list(db: asyncpg.Connection, need_id: int) -> list[int]:
    """The suppliers on a need's stored list, best first."""
    rows = await db.fetch(
        "SELECT supplier_id FROM matches WHERE need_id = $1 AND in_need_list "
        "ORDER BY score DESC, supplier_id",
        need_id,
    )
    return [row["supplier_id"] for row in rows]
