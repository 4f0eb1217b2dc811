"""The sql/ migrations: applied in order, once, safely from two processes at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from asfmatch.storage.migrations import MigrationError, load_migrations, migrate


async def test_migrate_on_an_empty_database_applies_every_file_in_order(
    empty_database: str,
) -> None:
    connection = await asyncpg.connect(empty_database)
    try:
        applied = await migrate(connection)
        assert applied == [m.name for m in load_migrations()]
        recorded = await connection.fetch("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in recorded] == list(range(1, len(applied) + 1))
        assert await connection.fetchval("SELECT to_regclass('needs') IS NOT NULL")
    finally:
        await connection.close()


async def test_migrate_twice_applies_nothing_the_second_time(empty_database: str) -> None:
    connection = await asyncpg.connect(empty_database)
    try:
        await migrate(connection)
        assert await migrate(connection) == []
    finally:
        await connection.close()


async def test_two_concurrent_migrations_apply_each_file_once(empty_database: str) -> None:
    first, second = await asyncpg.connect(empty_database), await asyncpg.connect(empty_database)
    try:
        results = await asyncio.gather(migrate(first), migrate(second))
        assert sorted(results[0] + results[1]) == sorted(m.name for m in load_migrations())
        assert await first.fetchval("SELECT count(*) FROM schema_migrations") == len(
            load_migrations()
        )
    finally:
        await first.close()
        await second.close()


async def test_an_edited_applied_migration_is_refused(empty_database: str, tmp_path: Path) -> None:
    (tmp_path / "001_first.sql").write_text("CREATE TABLE a (id int);")
    connection = await asyncpg.connect(empty_database)
    try:
        await migrate(connection, tmp_path)
        (tmp_path / "001_first.sql").write_text("CREATE TABLE a (id bigint);")
        with pytest.raises(MigrationError, match="changed after it was applied"):
            await migrate(connection, tmp_path)
    finally:
        await connection.close()


async def test_a_failing_migration_leaves_no_trace_and_no_record(
    empty_database: str, tmp_path: Path
) -> None:
    (tmp_path / "001_good.sql").write_text("CREATE TABLE good (id int);")
    (tmp_path / "002_bad.sql").write_text("CREATE TABLE half (id int); SELECT no_such_function();")
    connection = await asyncpg.connect(empty_database)
    try:
        with pytest.raises(asyncpg.UndefinedFunctionError):
            await migrate(connection, tmp_path)
        assert await connection.fetchval("SELECT max(version) FROM schema_migrations") == 1
        assert await connection.fetchval("SELECT to_regclass('half')") is None
    finally:
        await connection.close()


def test_migration_files_must_be_numbered_without_gaps(tmp_path: Path) -> None:
    (tmp_path / "001_a.sql").write_text("SELECT 1;")
    (tmp_path / "003_c.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="expected migration number 002"):
        load_migrations(tmp_path)


def test_oddly_named_migration_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "1-first.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="NNN_snake_case"):
        load_migrations(tmp_path)


async def test_bumping_a_match_version_is_not_an_edit_but_a_content_change_is(
    db: asyncpg.Connection,
) -> None:
    organisation = await db.fetchval(
        "INSERT INTO organisations (kind, name, org_number) VALUES ('buyer', 'B', '212000-2742') RETURNING id"
    )
    need = await db.fetchval(
        "INSERT INTO needs (buyer_id, title, description, kommun) VALUES ($1, 'T', '', '2580') RETURNING id",
        organisation,
    )
    seq = await db.fetchval("SELECT change_seq FROM needs WHERE id = $1", need)
    await db.execute("UPDATE needs SET match_version = match_version + 1 WHERE id = $1", need)
    assert await db.fetchval("SELECT change_seq FROM needs WHERE id = $1", need) == seq
    await db.execute("UPDATE needs SET kommun = '0180' WHERE id = $1", need)
    assert await db.fetchval("SELECT change_seq FROM needs WHERE id = $1", need) > seq
