"""Posting a need is one statement: the row, its buyer's name and, when open, its ranking job
(POST /api/v1/needs then costs one round trip inside its transaction, and nothing is re-read);
so is a new supplier profile with its ranking job."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from asfmatch.services.needs import publish_need
from asfmatch.storage.jobs import RANK_SUPPLIER
from asfmatch.storage.suppliers import ProfileExists, insert_supplier
from testkit import Keys


async def _statements(db: asyncpg.Connection, call: Any) -> tuple[Any, list[str]]:
    seen: list[str] = []

    def log(record: Any) -> None:
        seen.append(record.query)

    db.add_query_logger(log)
    try:
        result = await call
        await asyncio.sleep(0.05)  # asyncpg calls loggers soon after, not during
        return result, seen
    finally:
        db.remove_query_logger(log)


async def test_an_open_need_and_its_ranking_job_are_written_by_one_statement(
    db: asyncpg.Connection, keys: Keys
) -> None:
    buyer, _ = await keys.make("buyer", "Luleå kommun")
    fields = {"title": "Snöröjning", "description": "", "cpv_codes": [], "kommun": "2580"}
    need, statements = await _statements(db, publish_need(db, buyer, fields))
    assert len(statements) == 1
    assert need.buyer_name == "Luleå kommun" and need.status == "open"
    jobs = await db.fetch("SELECT kind, state FROM jobs WHERE entity_id = $1", need.id)
    assert [(job["kind"], job["state"]) for job in jobs] == [("rank_need", "queued")]
    # Born pending: no other transaction saw an earlier version, so the job bumps nothing
    # (sql/014_fresh_rows.sql); the version moves when the job finishes.
    assert await db.fetchval("SELECT match_version FROM needs WHERE id = $1", need.id) == 0


async def test_a_draft_is_written_without_a_ranking_job(db: asyncpg.Connection, keys: Keys) -> None:
    buyer, _ = await keys.make("buyer")
    fields = {"title": "Utkast", "description": "", "cpv_codes": [], "kommun": "2580"}
    draft = await publish_need(db, buyer, {**fields, "status": "draft"})
    assert draft.status == "draft"
    assert await db.fetchval("SELECT count(*) FROM jobs WHERE entity_id = $1", draft.id) == 0


async def test_a_new_supplier_profile_and_its_ranking_job_are_written_by_one_statement(
    db: asyncpg.Connection, keys: Keys
) -> None:
    organisation, _ = await keys.make("supplier", "Städkooperativet Trean")
    fields = {
        "legal_form": "ekonomisk_forening",
        "description": "Städning av kontor.",
        "cpv_codes": ["90910000"],
        "service_area": ["2580"],
        "employees": 5,
        "target_group_share": 0.5,
    }
    supplier, statements = await _statements(
        db, insert_supplier(db, organisation, fields, rank_job=RANK_SUPPLIER)
    )
    assert len(statements) == 1 and supplier.organisation_id == organisation
    jobs = await db.fetch("SELECT kind FROM jobs WHERE entity_id = $1", supplier.id)
    assert [job["kind"] for job in jobs] == ["rank_supplier"]
    # A second profile for the organisation is refused and queues nothing.
    with pytest.raises(ProfileExists):
        await insert_supplier(db, organisation, fields, rank_job=RANK_SUPPLIER)
    assert await db.fetchval("SELECT count(*) FROM jobs") == 1
