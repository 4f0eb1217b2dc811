"""Applies the numbered plain-SQL files in sql/ in order, each exactly once."""

from __future__ import annotations

import hashlib
import re
from importlib.resources import files
from pathlib import Path

import msgspec

from asfmatch.storage.db import Connection

# Any constant works; it only has to be the same for every asfmatch process.
_MIGRATION_LOCK = 0x61736D67  # "asmg"
_NAME = re.compile(r"^(\d{3,})_[a-z0-9_]+\.sql$")

# Shipped inside the package (src/asfmatch/sql links to the top-level sql/), so an installed
# wheel migrates exactly as a checkout does.
DEFAULT_MIGRATIONS_DIR = Path(str(files("asfmatch").joinpath("sql")))


class MigrationError(RuntimeError):
    """The migrations on disk disagree with what the database has applied."""


class Migration(msgspec.Struct, frozen=True):
    """One SQL file: its version number, file name, text and checksum."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the file's text, to catch edits to an applied migration."""
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(directory: Path = DEFAULT_MIGRATIONS_DIR) -> list[Migration]:
    """Read the migration files in version order; reject gaps, duplicates and odd names."""
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migration files are named NNN_snake_case.sql")
        found.append(Migration(int(match.group(1)), path.name, path.read_text(encoding="utf-8")))
    if not found:
        # An install that lost its SQL files must not report an empty database as migrated.
        raise MigrationError(f"no migration files in {directory}")
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise MigrationError(f"{migration.name}: expected migration number {expected:03d}")
    return found


async def pending_migrations(
    connection: Connection, directory: Path = DEFAULT_MIGRATIONS_DIR
) -> list[str]:
    """Names of the migrations this code ships that the database has not applied."""
    exists = await connection.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    applied = (
        {row["version"] for row in await connection.fetch("SELECT version FROM schema_migrations")}
        if exists
        else set()
    )
    return [m.name for m in load_migrations(directory) if m.version not in applied]


async def migrate(connection: Connection, directory: Path = DEFAULT_MIGRATIONS_DIR) -> list[str]:
    """Apply pending migrations under an advisory lock and return the names applied."""
    migrations = load_migrations(directory)
    # The session lock makes a second `asfmatch migrate` wait rather than apply twice.
    await connection.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
    try:
        await connection.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        applied = {
            row["version"]: row
            for row in await connection.fetch(
                "SELECT version, name, checksum FROM schema_migrations"
            )
        }
        done: list[str] = []
        for migration in migrations:
            row = applied.get(migration.version)
            if row is not None:
                if row["checksum"] != migration.checksum:
                    raise MigrationError(
                        f"{migration.name} was changed after it was applied; "
                        "add a new migration instead of editing an old one"
                    )
                continue
            async with connection.transaction():
                await connection.execute(migration.sql)
                await connection.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
            done.append(migration.name)
        unknown = sorted(set(applied) - {m.version for m in migrations})
        if unknown:
            raise MigrationError(f"the database has migrations this code does not know: {unknown}")
        return done
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
