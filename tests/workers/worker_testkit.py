"""Helpers for the worker tests: profiles and needs straight in the database, or posted
through the API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from testkit import Keys

CLEANING = (
    "Vi utför städning av kontor, trapphus och skolor. Arbetsträning för personer långt från "
    "arbetsmarknaden."
)
# A cleaning co-op's profile as posted through the API, and a need it answers best.
CLEANING_PROFILE: dict[str, Any] = {
    "legal_form": "ekonomisk_forening",
    "description": CLEANING,
    "cpv_codes": ["90910000"],
    "service_area": ["2580"],
    "employees": 14,
    "target_group_share": 0.6,
    "max_contract_value_sek": 1_000_000,
}
CLEANING_NEED: dict[str, Any] = {
    "title": "Lokalvård av förskolor i Gammelstad",
    "description": "Städning av tre förskolor, daglig lokalvård och fönsterputs.",
    "cpv_codes": ["90919200"],
    "kommun": "2580",
    "estimated_value_sek": 500_000,
}
# A profile that states all four criteria, and a support body's check that finds the same
# values: recording it changes nothing the ranking looks at.
CHECKED_PROFILE: dict[str, Any] = {
    "legal_form": "ekonomisk_forening",
    "description": "Vi utför städning och lokalvård av kontor, trapphus och skolor.",
    "cpv_codes": ["90910000"],
    "service_area": ["2580"],
    "employees": 12,
    "target_group_share": 0.6,
    "work_integration_aim": True,
    "employee_participation": True,
    "profits_reinvested": True,
    "independent_of_public_sector": True,
}
CHECK: dict[str, Any] = {
    "note": "Årsredovisning 2025 och anställningslista sedda på plats.",
    **{name: CHECKED_PROFILE[name] for name in ("target_group_share", "work_integration_aim")},
    **{name: CHECKED_PROFILE[name] for name in ("employee_participation", "profits_reinvested")},
    "independent_of_public_sector": True,
}

# The `new_supplier` fixture (conftest.py): post_supplier on the test's `client`.
NewSupplier = Callable[[str, dict[str, Any]], Awaitable[tuple[int, dict[str, str]]]]


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


async def need_list(db: asyncpg.Connection, need_id: int) -> list[int]:
    """The suppliers on a need's stored list, best first."""
    rows = await db.fetch(
        "SELECT supplier_id FROM matches WHERE need_id = $1 AND in_need_list "
        "ORDER BY score DESC, supplier_id",
        need_id,
    )
    return [row["supplier_id"] for row in rows]
