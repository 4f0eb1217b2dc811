"""Bulk import of buyers, suppliers and needs from one JSON file, all or nothing."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated, Any, TextIO, TypeVar

import asyncpg
import msgspec

from asfmatch.services.errors import DomainError
from asfmatch.services.fields import Name, OrgNumber
from asfmatch.services.needs import NeedCreate, create_need
from asfmatch.services.organisations import ensure_organisation
from asfmatch.services.suppliers import SupplierCreate, create_supplier
from asfmatch.services.validation import describe_decode_error
from asfmatch.storage.db import Connection
from asfmatch.storage.organisations import Principal

# The import runs with an admin's rights: it is an operator's command, not a client's request.
_OPERATOR = Principal(organisation_id=0, role="admin", key_id=0)

RowKey = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
RowT = TypeVar("RowT", "ImportBuyer", "ImportSupplier", "ImportNeed")


class ImportBuyer(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A buyer organisation, created unless its organisation number exists."""

    key: RowKey
    name: Name
    org_number: OrgNumber


class ImportSupplier(SupplierCreate, forbid_unknown_fields=True, kw_only=True):
    """A supplier profile with the file's key for it."""

    key: RowKey


class ImportNeed(NeedCreate, forbid_unknown_fields=True, kw_only=True):
    """A need whose `buyer` is the key of a buyer in the same file."""

    key: RowKey
    buyer: str


class Rejection(msgspec.Struct, frozen=True):
    """Why one row of the file was not imported."""

    section: str
    row: int
    key: str | None
    field: str
    reason: str

    def __str__(self) -> str:
        key = f" (key {self.key})" if self.key else ""
        return f"{self.section}[{self.row}]{key}: {self.field}: {self.reason}"


class ImportResult(msgspec.Struct, kw_only=True):
    """Ids by key, or every rejection (in which case nothing was imported)."""

    buyers: dict[str, int] = msgspec.field(default_factory=dict)
    suppliers: dict[str, int] = msgspec.field(default_factory=dict)
    needs: dict[str, int] = msgspec.field(default_factory=dict)
    rejected: list[Rejection] = msgspec.field(default_factory=list)


class ImportFileError(ValueError):
    """The file is not a JSON object with buyers, suppliers and needs lists."""


class _Rollback(Exception):
    pass


def parse_sections(raw: bytes) -> dict[str, list[Any]]:
    """The three row lists of an import file; raises ImportFileError for any other shape."""
    try:
        document = msgspec.json.decode(raw)
    except msgspec.DecodeError as error:
        raise ImportFileError(f"not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise ImportFileError("the file must hold a JSON object with buyers, suppliers and needs")
    unknown = set(document) - {"buyers", "suppliers", "needs"}
    if unknown:
        raise ImportFileError(f"unknown sections: {sorted(unknown)}")
    sections: dict[str, list[Any]] = {}
    for name in ("buyers", "suppliers", "needs"):
        rows = document.get(name, [])
        if not isinstance(rows, list):
            raise ImportFileError(f"{name} must be a list")
        sections[name] = rows
    return sections


async def import_file(
    connection: Connection,
    raw: bytes,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Validate every row, then import all of them in one transaction, or none if any row fails."""
    sections = parse_sections(raw)
    result = ImportResult()
    total = sum(len(rows) for rows in sections.values())
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    buyers = _convert(sections["buyers"], ImportBuyer, "buyers", result)
    suppliers = _convert(sections["suppliers"], ImportSupplier, "suppliers", result)
    needs = _convert(sections["needs"], ImportNeed, "needs", result)
    buyer_keys = {row.key for _, row in buyers}
    for position, need in needs:
        if need.buyer not in buyer_keys:
            result.rejected.append(
                Rejection(
                    "needs",
                    position,
                    need.key,
                    "buyer",
                    f"no buyer with key {need.buyer!r} in the file",
                )
            )
    try:
        async with connection.transaction():
            for position, buyer in buyers:
                await _guarded(
                    result, "buyers", position, buyer.key, _import_buyer(connection, buyer, result)
                )
                step()
            for position, supplier in suppliers:
                await _guarded(
                    result,
                    "suppliers",
                    position,
                    supplier.key,
                    _import_supplier(connection, supplier, result),
                )
                step()
            for position, need in needs:
                if need.buyer in result.buyers:
                    body = msgspec.structs.replace(need, buyer_id=result.buyers[need.buyer])
                    await _guarded(
                        result, "needs", position, need.key, _import_need(connection, body, result)
                    )
                step()
            if result.rejected:
                raise _Rollback
    except _Rollback:
        return ImportResult(rejected=sorted(result.rejected, key=lambda r: (r.section, r.row)))
    return result


def _convert(
    rows: list[Any], kind: type[RowT], section: str, result: ImportResult
) -> list[tuple[int, RowT]]:
    """Type-check each row on its own, so one bad row does not hide the others' errors."""
    converted: list[tuple[int, RowT]] = []
    seen: set[str] = set()
    for position, row in enumerate(rows):
        key = row.get("key") if isinstance(row, dict) else None
        key = key if isinstance(key, str) else None
        try:
            value = msgspec.convert(row, type=kind)
        except msgspec.ValidationError as error:
            problem = describe_decode_error(str(error), default_field="row")
            result.rejected.append(Rejection(section, position, key, problem.field, problem.reason))
            continue
        value_key = value.key
        if value_key in seen:
            result.rejected.append(
                Rejection(section, position, value_key, "key", "duplicate key in this section")
            )
            continue
        seen.add(value_key)
        converted.append((position, value))
    return converted


async def _guarded(result: ImportResult, section: str, position: int, key: str, work: Any) -> None:
    """Run one row's import in a savepoint; record the rule it broke as a rejection."""
    try:
        await work
    except asyncpg.PostgresError as error:
        # The services' checks should catch everything first; the database is the backstop.
        result.rejected.append(
            Rejection(section, position, key, "row", f"database refused it: {error}")
        )
    except DomainError as error:
        if error.errors:
            for field_error in error.errors:
                result.rejected.append(
                    Rejection(section, position, key, field_error.field, field_error.reason)
                )
        else:
            result.rejected.append(Rejection(section, position, key, "row", error.detail))


async def _import_buyer(connection: Connection, buyer: ImportBuyer, result: ImportResult) -> None:
    async with connection.transaction():
        found = await ensure_organisation(connection, "buyer", buyer.name, buyer.org_number)
    result.buyers[buyer.key] = found.id


async def _import_supplier(
    connection: Connection, supplier: ImportSupplier, result: ImportResult
) -> None:
    fields = {name: getattr(supplier, name) for name in SupplierCreate.__struct_fields__}
    async with connection.transaction():
        created = await create_supplier(connection, _OPERATOR, SupplierCreate(**fields))
    result.suppliers[supplier.key] = created.id


async def _import_need(connection: Connection, need: ImportNeed, result: ImportResult) -> None:
    fields = {name: getattr(need, name) for name in NeedCreate.__struct_fields__}
    async with connection.transaction():
        created = await create_need(connection, _OPERATOR, NeedCreate(**fields))
    result.needs[need.key] = created.id


def progress_printer(stream: TextIO = sys.stderr, unit: str = "rows") -> Callable[[int, int], None]:
    """Prints `importing n/total <unit>` now and then on large batches (every 1 % or 500)."""

    def show(done: int, total: int) -> None:
        every = max(1, min(500, total // 100))
        if total >= 200 and (done % every == 0 or done == total):
            end = "\n" if done == total else "\r"
            stream.write(f"importing {done}/{total} {unit} ({100 * done // total} %){end}")
            stream.flush()

    return show
