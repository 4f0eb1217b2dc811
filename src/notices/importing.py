"""Notices into needs: idempotent by (source, procedure, lot); a change notice updates its need
and ranks it again, a cancellation withdraws it. Needs are published and changed through the
same service as POST /needs and PATCH /needs (asfmatch.services.needs)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec

from asfmatch.notices.model import Notice
from asfmatch.notices.reading import Document, parse_document
from asfmatch.notices.screening import Candidate, Skip, screen
from asfmatch.services.needs import need_changed, publish_need
from asfmatch.storage import needs as needs_repo
from asfmatch.storage import notices as repo
from asfmatch.storage.db import Connection


class ImportReport(msgspec.Struct, kw_only=True):
    """What one import did: need ids by outcome and every skip with its reason."""

    documents: int = 0
    notices: int = 0
    created: list[int] = msgspec.field(default_factory=list)
    updated: list[int] = msgspec.field(default_factory=list)
    unchanged: list[int] = msgspec.field(default_factory=list)
    withdrawn: list[int] = msgspec.field(default_factory=list)
    reserved: list[int] = msgspec.field(default_factory=list)
    skipped: list[Skip] = msgspec.field(default_factory=list)

    def add(self, other: ImportReport) -> None:
        """Fold another report into this one."""
        self.documents += other.documents
        self.notices += other.notices
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.withdrawn += other.withdrawn
        self.reserved += other.reserved
        self.skipped += other.skipped

    def summary(self) -> str:
        """One line: counts by outcome."""
        return (
            f"{self.notices} notice(s) in {self.documents} document(s): "
            f"{len(self.created)} need(s) created ({len(self.reserved)} reserved), "
            f"{len(self.updated)} updated, {len(self.unchanged)} unchanged, "
            f"{len(self.withdrawn)} withdrawn, {len(self.skipped)} skipped"
        )


Progress = Callable[[int, int], None]


async def _import_lot(
    connection: Connection, candidate: Candidate, file: str, report: ImportReport
) -> None:
    notice, lot, fields = candidate.notice, candidate.lot, candidate.fields
    existing = await repo.find_imported(connection, notice.source, notice.procedure_id, lot.lot_id)
    if existing is None:
        buyer_id = None
        if notice.buyer_org_number is not None:
            buyer_id = await repo.buyer_with_org_number(connection, notice.buyer_org_number)
        need = await publish_need(connection, buyer_id, fields)
        report.created.append(need.id)
        if need.reserved:
            report.reserved.append(need.id)
        return
    same_version = (existing.notice_id, existing.notice_version) == (
        notice.notice_id,
        notice.version,
    )
    older = (
        notice.issued_at is not None
        and existing.notice_issued_at is not None
        and notice.issued_at < existing.notice_issued_at
    )
    if same_version:
        report.unchanged.append(existing.need_id)
        return
    if older:
        report.unchanged.append(existing.need_id)
        report.skipped.append(
            Skip(
                file=file,
                reason="older than the version already imported",
                where="/*/cbc:IssueDate" if notice.source == "ted" else "$.date",
                notice_id=notice.notice_id,
                lot_id=lot.lot_id,
            )
        )
        return
    before = await needs_repo.get_need(connection, existing.need_id)
    assert before is not None
    after = await needs_repo.update_need(connection, existing.need_id, _changes(fields))
    assert after is not None
    await need_changed(connection, before, after)
    report.updated.append(after.id)


def _changes(fields: dict[str, Any]) -> dict[str, Any]:
    # The buyer's name and number stay as first imported: a claimed need keeps its owner.
    return {key: value for key, value in fields.items() if key not in {"buyer_org_number"}}


async def _cancel(connection: Connection, notice: Notice, file: str, report: ImportReport) -> None:
    needs = await repo.procedure_needs(connection, notice.source, notice.procedure_id)
    if not needs:
        report.skipped.append(
            Skip(
                file=file,
                reason=f"cancels procedure {notice.procedure_id}, of which nothing was imported",
                where="/*/ext:UBLExtensions//efac:Changes/efac:ChangeReason/cbc:ReasonCode"
                if notice.source == "ted"
                else "$.tender.status",
                notice_id=notice.notice_id,
            )
        )
        return
    for before in needs:
        if before.status in {"withdrawn", "closed"}:
            report.unchanged.append(before.id)
            continue
        after = await needs_repo.update_need(
            connection,
            before.id,
            {
                "status": "withdrawn",
                "notice_id": notice.notice_id,
                "notice_version": notice.version,
                "notice_issued_at": notice.issued_at,
            },
        )
        assert after is not None
        await need_changed(connection, before, after)
        report.withdrawn.append(after.id)


async def import_notice(
    connection: Connection, notice: Notice, file: str, now: datetime
) -> ImportReport:
    """Import one notice in its own transaction (a savepoint inside the caller's)."""
    report = ImportReport(notices=1)
    try:
        async with connection.transaction():
            if notice.cancelled:
                await _cancel(connection, notice, file, report)
                return report
            candidates, skips = screen(notice, file, now)
            report.skipped += skips
            for candidate in candidates:
                await _import_lot(connection, candidate, file, report)
    except (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError) as error:
        # A value the database refuses (screening should have caught it): this notice is
        # rolled back and reported, the others still import.
        reason = f"unparseable: the database refused it ({error.__class__.__name__})"
        return ImportReport(
            notices=1,
            skipped=[Skip(file=file, reason=reason, notice_id=notice.notice_id)],
        )
    return report


def _oldest_first(item: tuple[Notice, str]) -> tuple[datetime, str]:
    notice, _ = item
    return (notice.issued_at or _EPOCH, notice.notice_id)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


async def import_documents(
    connection: Connection,
    documents: Iterable[Document | Skip],
    now: datetime,
    progress: Progress | None = None,
) -> ImportReport:
    """Parse, screen and import every document; nothing here raises for a bad notice. Notices
    are applied oldest first, so a folder holding a notice, its change and its cancellation
    ends with the cancellation whatever the files are called."""
    report = ImportReport()
    parsed_notices: list[tuple[Notice, str]] = []
    for item in documents:
        if isinstance(item, Skip):
            report.skipped.append(item)
            continue
        report.documents += 1
        for parsed in parse_document(item):
            if isinstance(parsed, Skip):
                report.notices += 1
                report.skipped.append(parsed)
            else:
                parsed_notices.append((parsed, item.name))
    parsed_notices.sort(key=_oldest_first)
    for done, (notice, file) in enumerate(parsed_notices, start=1):
        report.add(await import_notice(connection, notice, file, now))
        if progress is not None:
            progress(done, len(parsed_notices))
    return report
