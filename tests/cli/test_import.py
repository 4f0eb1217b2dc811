"""`asfmatch import`: all rows or none, every rejection reported with its reason."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
import time_machine

from asfmatch.demo import demo_data
from asfmatch.importing import ImportFileError, import_file
from testkit import run_asfmatch

GOOD_SUPPLIER = {
    "key": "s1",
    "name": "Städkooperativet Trean",
    "org_number": "769612-3456",
    "legal_form": "ekonomisk_forening",
    "description": "Vi städar kontor och trapphus i Luleå och erbjuder arbetsträning.",
    "cpv_codes": ["90910000-9"],
    "service_area": ["2580"],
    "employees": 12,
    "target_group_share": 0.6,
}
GOOD_BUYER = {"key": "b1", "name": "Luleå kommun", "org_number": "212000-2742"}
GOOD_NEED = {"key": "n1", "buyer": "b1", "title": "Lokalvård förskolor", "kommun": "2580"}


def _luhn_fix(number: str) -> str:
    from asfmatch.reference.org_numbers import luhn_check_digit

    digits = number.replace("-", "")[:9]
    return f"{digits[:6]}-{digits[6:]}{luhn_check_digit(digits)}"


GOOD_SUPPLIER["org_number"] = _luhn_fix("769612-345")


async def _counts(db: asyncpg.Connection) -> tuple[int, int, int]:
    row = await db.fetchrow(
        """SELECT (SELECT count(*) FROM organisations), (SELECT count(*) FROM supplier_profiles),
                  (SELECT count(*) FROM needs)"""
    )
    assert row is not None
    return row[0], row[1], row[2]


async def test_the_demo_file_imports_completely_and_queues_ranking(db: asyncpg.Connection) -> None:
    document = json.loads(demo_data())
    result = await import_file(db, demo_data())
    assert result.rejected == []
    assert len(result.suppliers) == len(document["suppliers"])
    assert len(result.needs) == len(document["needs"])
    assert set(result.buyers) == {b["key"] for b in document["buyers"]}
    queued = await db.fetchval("SELECT count(*) FROM jobs WHERE state = 'queued'")
    assert queued == len(document["suppliers"]) + len(document["needs"])


async def test_the_demo_file_loads_a_year_from_now_with_every_need_open(
    db: asyncpg.Connection,
) -> None:
    later = datetime.now(UTC) + timedelta(days=365)
    with time_machine.travel(later, tick=True):
        result = await import_file(db, demo_data())
        assert result.rejected == []
        deadlines = await db.fetch("SELECT closes_at FROM needs WHERE status = 'open'")
        assert len(deadlines) == len(result.needs) > 0
        # Every deadline lies ahead of the travelled clock, the nearest at least a week away.
        assert min(row["closes_at"] for row in deadlines) > later + timedelta(days=7)


def test_demo_deadlines_are_counted_from_the_day_the_data_is_loaded() -> None:
    first = [
        datetime.fromisoformat(n["closes_at"])
        for n in json.loads(demo_data(date(2030, 6, 1)))["needs"]
    ]
    second = [
        datetime.fromisoformat(n["closes_at"])
        for n in json.loads(demo_data(date(2030, 6, 11)))["needs"]
    ]
    # Local dates move with the load day; the local time of day stays as written.
    assert [b.date() - a.date() for a, b in zip(first, second, strict=True)] == [
        timedelta(days=10)
    ] * len(first)
    assert [a.time() for a in first] == [b.time() for b in second]
    assert min(first).date() > date(2030, 6, 1)


async def test_one_bad_row_imports_nothing_and_every_bad_row_is_reported(
    db: asyncpg.Connection,
) -> None:
    bad_kommun = {**GOOD_NEED, "key": "n2", "kommun": "9999"}
    bad_type = {**GOOD_SUPPLIER, "key": "s2", "employees": "many"}
    bad_luhn = {**GOOD_BUYER, "key": "b2", "org_number": "212000-2743"}
    unknown_buyer = {**GOOD_NEED, "key": "n3", "buyer": "nobody"}
    unknown_field = {**GOOD_SUPPLIER, "key": "s3", "colour": "blue"}
    document = {
        "buyers": [GOOD_BUYER, bad_luhn],
        "suppliers": [GOOD_SUPPLIER, bad_type, unknown_field],
        "needs": [GOOD_NEED, bad_kommun, unknown_buyer],
    }
    result = await import_file(db, json.dumps(document).encode())
    found = {(r.section, r.key, r.field) for r in result.rejected}
    assert ("buyers", "b2", "org_number") in found
    assert ("suppliers", "s2", "employees") in found
    assert ("suppliers", "s3", "colour") in found
    assert ("needs", "n2", "kommun") in found
    assert ("needs", "n3", "buyer") in found
    assert result.suppliers == {} and result.needs == {}
    assert await _counts(db) == (0, 0, 0)
    assert await db.fetchval("SELECT count(*) FROM jobs") == 0


async def test_duplicate_keys_and_duplicate_org_numbers_are_rejected(
    db: asyncpg.Connection,
) -> None:
    twin = {**GOOD_SUPPLIER, "key": "s9"}
    document = {"buyers": [], "suppliers": [GOOD_SUPPLIER, GOOD_SUPPLIER, twin], "needs": []}
    result = await import_file(db, json.dumps(document).encode())
    reasons = {(r.key, r.field): r.reason for r in result.rejected}
    assert reasons[("s1", "key")] == "duplicate key in this section"
    assert "already has a profile" in reasons[("s9", "org_number")]
    assert await _counts(db) == (0, 0, 0)


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"[]", b'{"buyers": {}}', b'{"sellers": []}'],
)
async def test_a_file_of_the_wrong_shape_is_refused_whole(
    db: asyncpg.Connection, raw: bytes
) -> None:
    with pytest.raises(ImportFileError):
        await import_file(db, raw)


@pytest.mark.slow
def test_the_import_command_prints_ids_by_key_and_progress_on_large_files(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    from asfmatch.reference.org_numbers import luhn_check_digit

    suppliers = []
    for n in range(300):
        digits = f"7696{n:05d}"
        suppliers.append(
            {
                **GOOD_SUPPLIER,
                "key": f"s{n}",
                "org_number": f"{digits[:6]}-{digits[6:]}{luhn_check_digit(digits)}",
            }
        )
    path = tmp_path / "big.json"
    path.write_text(
        json.dumps({"buyers": [GOOD_BUYER], "suppliers": suppliers, "needs": [GOOD_NEED]})
    )
    done = run_asfmatch(["import", str(path)], database_url, redis_url, tmp_path)
    assert done.returncode == 0, done.stderr
    ids = json.loads(done.stdout)
    assert len(ids["suppliers"]) == 300 and set(ids["needs"]) == {"n1"}
    assert "importing 302/302 rows (100 %)" in done.stderr


@pytest.mark.slow
def test_the_import_command_fails_with_every_reason_and_imports_nothing(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(
            {"buyers": [GOOD_BUYER], "suppliers": [], "needs": [{**GOOD_NEED, "kommun": "0000"}]}
        )
    )
    done = run_asfmatch(["import", str(path)], database_url, redis_url, tmp_path)
    assert done.returncode == 1
    assert "needs[0] (key n1): kommun: unknown kommun code '0000'" in done.stderr
    assert "nothing was imported" in done.stderr
    assert done.stdout == ""
