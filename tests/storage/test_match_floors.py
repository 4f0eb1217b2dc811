"""The floor a newcomer must beat to enter a full match list, checked against a plain Python
reading of the same rows."""

from __future__ import annotations

import random

import asyncpg

from asfmatch.storage import matches

NEEDS, SUPPLIERS = 12, 40


async def _fill(db: asyncpg.Connection, seed: int) -> list[tuple[int, int, float, bool, bool]]:
    """Random match rows between NEEDS needs and SUPPLIERS suppliers; returns them."""
    await db.execute(
        """
        INSERT INTO organisations (kind, name, org_number)
        SELECT 'supplier', 'S' || i, lpad(i::text, 6, '0') || '-0000' FROM generate_series(1, $1) i
        """,
        SUPPLIERS,
    )
    await db.execute(
        """
        INSERT INTO supplier_profiles (organisation_id, legal_form, description, employees,
                                       target_group_share)
        SELECT id, 'aktiebolag', 'städning', 5, 0.5 FROM organisations WHERE kind = 'supplier'
        """
    )
    buyer = await db.fetchval(
        "INSERT INTO organisations (kind, name, org_number) VALUES ('buyer', 'B', '212000-0000') RETURNING id"
    )
    await db.execute(
        "INSERT INTO needs (buyer_id, title, description, kommun) "
        "SELECT $1, 'N' || i, 'städning', '0180' FROM generate_series(1, $2) i",
        buyer,
        NEEDS,
    )
    need_ids = [r["id"] for r in await db.fetch("SELECT id FROM needs ORDER BY id")]
    supplier_ids = [r["id"] for r in await db.fetch("SELECT id FROM supplier_profiles ORDER BY id")]
    rng = random.Random(seed)
    rows = []
    for need_id in need_ids:
        for supplier_id in rng.sample(supplier_ids, rng.randint(0, len(supplier_ids))):
            in_need, in_supplier = rng.random() < 0.7, rng.random() < 0.5
            if in_need or in_supplier:
                rows.append((need_id, supplier_id, round(rng.random(), 3), in_need, in_supplier))
    await db.executemany(
        "INSERT INTO matches (need_id, supplier_id, score, explanation, model_version, "
        "in_need_list, in_supplier_list) VALUES ($1, $2, $3, '{}', 'test', $4, $5)",
        rows,
    )
    return rows


def _expected(
    rows: list[tuple[int, int, float, bool, bool]], side: str, size: int, exclude: int
) -> dict[int, float]:
    by_owner: dict[int, list[float]] = {}
    for need_id, supplier_id, score, in_need, in_supplier in rows:
        owner, other, kept = (
            (need_id, supplier_id, in_need)
            if side == "need"
            else (supplier_id, need_id, in_supplier)
        )
        if kept and other != exclude:
            by_owner.setdefault(owner, []).append(score)
    return {
        owner: sorted(scores, reverse=True)[size - 1]
        for owner, scores in by_owner.items()
        if len(scores) >= size
    }


async def test_floors_are_the_lowest_score_of_each_full_list(db: asyncpg.Connection) -> None:
    rows = await _fill(db, seed=3)
    owners = {"need": sorted({r[0] for r in rows}), "supplier": sorted({r[1] for r in rows})}
    checked = 0
    for side in ("need", "supplier"):
        for size in (1, 3, 8, 30):
            for exclude in (0, owners["supplier" if side == "need" else "need"][0]):
                floors = await matches.list_floors(db, side, owners[side], size, exclude)
                assert floors == _expected(rows, side, size, exclude)
                checked += len(floors)
    assert checked > 50  # the data must fill some lists, or the comparison proves nothing


async def test_owners_without_rows_or_unknown_have_no_floor(db: asyncpg.Connection) -> None:
    await _fill(db, seed=5)
    assert await matches.list_floors(db, "need", [987654321], 1, 0) == {}
    assert await matches.list_floors(db, "supplier", [], 1, 0) == {}
