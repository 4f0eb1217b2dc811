"""Small pieces the service benchmarks share: made-up organisation numbers, free ports,
percentiles, a database loaded with synthetic suppliers, and match rows to fill it with."""

from __future__ import annotations

import socket

import asyncpg

from asfmatch.reference.org_numbers import luhn_check_digit
from asfmatch.storage import organisations, suppliers
from asfmatch.storage.db import connect
from asfmatch.storage.migrations import migrate
from synthetic import Generator


def org_number(serial: int, prefix: str) -> str:
    """A valid (Luhn) organisation number, unique per (prefix, serial)."""
    digits = f"{prefix}{serial:06d}"[:9]
    return f"{digits[:6]}-{digits[6:]}{luhn_check_digit(digits)}"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def load_suppliers(database_url: str, count: int, generator: Generator) -> str:
    """Migrate, insert `count` synthetic suppliers and an admin; return the admin's key."""
    connection = await connect(database_url)
    try:
        await migrate(connection)
        async with connection.transaction():
            for serial in range(1, count + 1):
                profile = generator.supplier(serial)
                organisation = await organisations.create_organisation(
                    connection,
                    kind="supplier",
                    name=profile.name,
                    org_number=org_number(serial, "769"),
                )
                await suppliers.insert_supplier(
                    connection,
                    organisation.id,
                    {
                        "legal_form": "ekonomisk_forening",
                        "description": profile.description,
                        "cpv_codes": list(profile.cpv_codes),
                        "service_area": list(profile.service_area),
                        "employees": 10,
                        "target_group_share": profile.target_group_share,
                        "max_contract_value_sek": profile.max_contract_value_sek,
                        "training_places": profile.training_places,
                        "active": profile.active,
                    },
                )
            admin = await organisations.create_organisation(
                connection, kind="admin", name="bench", org_number=org_number(1, "555")
            )
            _, key = await organisations.create_api_key(connection, admin.id, "bench")
        return key
    finally:
        await connection.close()


async def fill_matches(
    connection: asyncpg.Connection,
    buyer_id: int,
    per_need: int,
    list_size: int,
    top_score: float = 1.0,
) -> None:
    """`per_need` random suppliers on the list of each need of `buyer_id`, scored at random
    below `top_score`, then every supplier's own list (its `list_size` best rows) marked, as
    the worker would have left them."""
    await connection.execute(
        """
        INSERT INTO matches (need_id, supplier_id, score, explanation, model_version, in_need_list)
        SELECT n.id, s.id, random() * $3, '{}', 'bench', true
        FROM needs n
        CROSS JOIN LATERAL (
            SELECT id FROM supplier_profiles ORDER BY random() + n.id * 0 LIMIT $2
        ) s
        WHERE n.buyer_id = $1
        """,
        buyer_id,
        per_need,
        top_score,
    )
    await connection.execute(
        """
        UPDATE matches m SET in_supplier_list = true FROM (
            SELECT need_id, supplier_id,
                   row_number() OVER (PARTITION BY supplier_id ORDER BY score DESC) AS position
            FROM matches
        ) r
        WHERE r.need_id = m.need_id AND r.supplier_id = m.supplier_id AND r.position <= $1
        """,
        list_size,
    )
