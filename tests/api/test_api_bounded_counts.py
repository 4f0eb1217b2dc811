"""The admin's organisation list and a webhook's delivery log count at most 1,000 rows, like
every other listing (storage/paging.py): their cost does not grow with the table."""

from __future__ import annotations

import asyncpg
from api_testkit import API, World


async def test_the_organisation_list_counts_at_most_a_thousand(
    client, db: asyncpg.Connection, world: World
):
    await db.execute(
        """
        INSERT INTO organisations (kind, name, org_number)
        SELECT 'buyer', 'Kommun ' || n, lpad(n::text, 6, '0') || '-0000'
        FROM generate_series(1, 1005) n
        """
    )
    first = (
        await client.get(f"{API}/organisations?page_size=5", headers=world.admin.headers)
    ).json()
    assert first["total"] == 1000 and first["total_exact"] is False
    assert len(first["items"]) == 5
    ids = [item["id"] for item in first["items"]]
    assert ids == sorted(ids)
    buyers = await client.get(f"{API}/organisations?kind=supplier", headers=world.admin.headers)
    body = buyers.json()
    assert body["total_exact"] is True
    assert body["total"] == len(body["items"]) and {o["kind"] for o in body["items"]} == {
        "supplier"
    }
