"""Procurement needs posted by buyers; public once they leave draft."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

import asyncpg
import msgspec

from asfmatch.matching.model import Need as RankedNeedInput
from asfmatch.storage.db import Connection
from asfmatch.storage.jobs import RANK_NEED, enqueue_for_rows
from asfmatch.storage.paging import Page, Query, contains_pattern

NEED_COLUMNS = (
    "title",
    "description",
    "cpv_codes",
    "kommun",
    "kommuner",
    "estimated_value_sek",
    "reserved",
    "training_places",
    "closes_at",
    "status",
)
# Set only by the notice importer (asfmatch.notices); the API never writes them.
NOTICE_COLUMNS = (
    "source",
    "whole_lan",
    "buyer_name",
    "buyer_org_number",
    "procedure_id",
    "lot_id",
    "notice_id",
    "notice_version",
    "notice_issued_at",
    "notice_url",
    "reserved_execution",
    "social_objective",
    "notice_value",
    "notice_currency",
)
_WRITABLE = NEED_COLUMNS + NOTICE_COLUMNS


class Need(msgspec.Struct, frozen=True, kw_only=True):
    """A procurement need as stored, with its buyer's name. Needs imported from public notices
    (`source` ted or ocds) may have no buyer account yet (`buyer_id` None); `buyer_name` is then
    the name the notice gives."""

    id: int
    buyer_id: int | None
    buyer_name: str
    title: str
    description: str
    cpv_codes: list[str]
    kommun: str
    # A joint procurement names several kommuner; `kommun` is the first of them.
    kommuner: list[str]
    lan: str
    # True when the need is for the whole län; `kommun` is then the län code followed by "00".
    whole_lan: bool = False
    estimated_value_sek: int | None
    reserved: bool
    training_places: int
    closes_at: datetime | None
    status: str
    created_at: datetime
    updated_at: datetime
    source: str = "asfmatch"
    buyer_org_number: str | None = None
    # The procedure (a notice's, or a need posted here split into lots) and the lot within it;
    # the lots of one procedure share procedure_id.
    procedure_id: str | None = None
    lot_id: str | None = None
    # The public notice this need was imported from, and a link to read it.
    notice_id: str | None = None
    notice_url: str | None = None
    # BT-736: execution reserved to sheltered employment programmes (it also sets `reserved`).
    reserved_execution: bool = False
    # The notice names a social objective (eForms BT-06 soc-obj / BT-775).
    social_objective: bool = False
    # The value as the notice gave it, in its own currency (estimated_value_sek only for SEK).
    notice_value: Decimal | None = None
    notice_currency: str | None = None

    def ranking_input(self) -> RankedNeedInput:
        """The part of this need the ranking core looks at."""
        return RankedNeedInput(
            id=self.id,
            title=self.title,
            description=self.description,
            cpv_codes=tuple(self.cpv_codes),
            kommun=self.kommun,
            kommuner=tuple(self.kommuner),
            whole_lan=self.whole_lan,
            estimated_value_sek=self.estimated_value_sek,
            reserved=self.reserved,
            training_places=self.training_places,
            status=self.status,
        )


class LotRef(msgspec.Struct, frozen=True, kw_only=True):
    """One lot of a procedure, as its sibling lots' pages list it."""

    id: int
    lot_id: str
    title: str
    estimated_value_sek: int | None
    training_places: int
    reserved: bool
    status: str


class NeedFilter(msgspec.Struct, frozen=True, kw_only=True):
    """What a need listing may be narrowed by; drafts show only to their buyer or to admins."""

    lan: str | None = None
    kommun: str | None = None
    cpv_prefix: str | None = None
    status: str | None = None
    reserved: bool | None = None
    social_objective: bool | None = None
    source: str | None = None
    buyer_id: int | None = None
    query: str | None = None
    drafts_of: int | None = None
    all_drafts: bool = False


_COLUMNS = """
    SELECT n.id, n.buyer_id, coalesce(o.name, n.buyer_name) AS buyer_name, n.title,
           n.description, n.cpv_codes, n.kommun, n.kommuner, n.lan, n.whole_lan, n.estimated_value_sek,
           n.reserved, n.training_places, n.closes_at, n.status, n.created_at, n.updated_at,
           n.source, n.buyer_org_number, n.procedure_id, n.lot_id, n.notice_id, n.notice_url,
           n.reserved_execution, n.social_objective, n.notice_value, n.notice_currency
"""
_SELECT = _COLUMNS + " FROM needs n LEFT JOIN organisations o ON o.id = n.buyer_id"
# The written row with its buyer's name, in the writing statement itself (no second read).
_RETURNING = _COLUMNS + " FROM written n LEFT JOIN organisations o ON o.id = n.buyer_id"


def _need(row: asyncpg.Record) -> Need:
    return Need(
        **{key: value for key, value in row.items() if key not in {"total", "change_seq", "ord"}}
    )


async def insert_need(
    connection: Connection,
    buyer_id: int | None,
    fields: Mapping[str, object],
    *,
    rank_job: str | None = None,
) -> Need:
    """Create a need of `buyer_id` (None: a notice's buyer without an account) from `fields`
    (NEED_COLUMNS, and NOTICE_COLUMNS for imported needs). With `rank_job`, an open need's
    ranking job is queued by the same statement (one round trip, no re-read)."""
    columns = [column for column in _WRITABLE if column in fields]
    placeholders = ", ".join(f"${i}" for i in range(2, len(columns) + 2))
    open_only = "written.status = 'open'"
    queued = (
        ""
        if rank_job is None
        else f", queued AS ({enqueue_for_rows(rank_job, 'written', open_only)})"
    )
    row = await connection.fetchrow(
        f"""
        WITH written AS (
            INSERT INTO needs (buyer_id, {", ".join(columns)}) VALUES ($1, {placeholders})
            RETURNING *
        ){queued}
        {_RETURNING}
        """,
        buyer_id,
        *(fields[column] for column in columns),
    )
    assert row is not None
    return _need(row)


async def procedure_lots(connection: Connection, source: str, procedure_id: str) -> list[LotRef]:
    """The needs of one procedure, in lot order (needs_notice_lot is the index)."""
    rows = await connection.fetch(
        """
        SELECT id, lot_id, title, estimated_value_sek, training_places, reserved, status
        FROM needs WHERE source = $1 AND procedure_id = $2
        ORDER BY lot_id, id
        """,
        source,
        procedure_id,
    )
    return [LotRef(**row) for row in rows]


async def update_need(
    connection: Connection, need_id: int, changes: Mapping[str, object]
) -> Need | None:
    """Apply `changes` (NEED_COLUMNS, NOTICE_COLUMNS) and return the new state, or None."""
    columns = [column for column in _WRITABLE if column in changes]
    if not columns:
        return await get_need(connection, need_id)
    assignments = ", ".join(f"{column} = ${i}" for i, column in enumerate(columns, start=2))
    row = await connection.fetchrow(
        f"""
        WITH written AS (UPDATE needs SET {assignments} WHERE id = $1 RETURNING *)
        {_RETURNING}
        """,
        need_id,
        *(changes[column] for column in columns),
    )
    return None if row is None else _need(row)


async def get_need(connection: Connection, need_id: int) -> Need | None:
    """The need with this id, or None."""
    row = await connection.fetchrow(_SELECT + " WHERE n.id = $1", need_id)
    return None if row is None else _need(row)


async def list_needs(
    connection: Connection, filters: NeedFilter, *, page: int, page_size: int
) -> Page[Need]:
    """One page of needs matching `filters`, newest first."""
    query = Query()
    arg = query.arg
    if not filters.all_drafts:
        owner = "false" if filters.drafts_of is None else f"n.buyer_id = {arg(filters.drafts_of)}"
        query.where(f"(n.status <> 'draft' OR {owner})")
    if filters.lan is not None:
        lan = arg(filters.lan)
        query.where(
            f"(n.lan = {lan} OR EXISTS (SELECT 1 FROM unnest(n.kommuner) k "
            f"WHERE substr(k, 1, 2) = {lan}))"
        )
    if filters.kommun is not None:
        query.where(f"{arg(filters.kommun)} = ANY (n.kommuner)")
    if filters.cpv_prefix is not None:
        query.where(
            f"EXISTS (SELECT 1 FROM unnest(n.cpv_codes) c WHERE c LIKE {arg(filters.cpv_prefix)} || '%')"
        )
    if filters.status is not None:
        query.where(f"n.status = {arg(filters.status)}")
    if filters.reserved is not None:
        query.where(f"n.reserved = {arg(filters.reserved)}")
    if filters.social_objective is not None:
        query.where(f"n.social_objective = {arg(filters.social_objective)}")
    if filters.source is not None:
        query.where(f"n.source = {arg(filters.source)}")
    if filters.buyer_id is not None:
        query.where(f"n.buyer_id = {arg(filters.buyer_id)}")
    if filters.query is not None:
        pattern = arg(contains_pattern(filters.query))
        query.where(f"(n.title ILIKE {pattern} OR n.description ILIKE {pattern})")
    return await query.page(connection, _SELECT, "id DESC", _need, page=page, page_size=page_size)


async def needs_changed_since(connection: Connection, horizon: int) -> list[tuple[Need, int]]:
    """Needs whose last change was made by a transaction with id `horizon` or later, each with
    its change number (see storage/changes.py)."""
    rows = await connection.fetch(
        _SELECT.replace("SELECT n.id,", "SELECT n.change_seq, n.id,", 1)
        + " WHERE n.change_xid >= $1::text::xid8 ORDER BY n.change_seq",
        str(horizon),
    )
    return [(_need(row), int(row["change_seq"])) for row in rows]


async def close_needs_past_deadline(connection: Connection) -> list[int]:
    """Set every open need whose closes_at has passed to closed; return their ids (ascending).

    The rows are locked in id order first, as storage/matches.py's lock order asks."""
    rows = await connection.fetch(
        """
        WITH due AS (
            SELECT id FROM needs
            WHERE status = 'open' AND closes_at IS NOT NULL AND closes_at <= now()
            ORDER BY id FOR NO KEY UPDATE SKIP LOCKED
        )
        UPDATE needs SET status = 'closed' FROM due WHERE needs.id = due.id
          AND needs.status = 'open'
        RETURNING needs.id
        """
    )
    return sorted(row["id"] for row in rows)


# Posted needs, many at once: each row (a JSON object of buyer_id and every NEED_COLUMNS) is
# written only where its buyer is a buyer organisation that may publish it (approved, or the
# need is a draft); `ord` says which input row each written need came from. The ids are drawn
# first so that the written rows can be told apart.
_POSTED = ", ".join(NEED_COLUMNS)
_INSERT_POSTED = f"""
WITH input AS MATERIALIZED (
    SELECT e.ord, nextval(pg_get_serial_sequence('needs', 'id')) AS id, r.buyer_id,
           {", ".join(f"r.{column}" for column in NEED_COLUMNS)}
    FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(item, ord),
         jsonb_populate_record(NULL::needs, e.item) AS r
), allowed AS MATERIALIZED (
    SELECT input.* FROM input JOIN organisations o ON o.id = input.buyer_id
    WHERE o.kind = 'buyer' AND (input.status <> 'open' OR o.approved_at IS NOT NULL)
), written AS (
    INSERT INTO needs (id, buyer_id, {_POSTED})
    SELECT id, buyer_id, {_POSTED} FROM allowed ORDER BY ord
    RETURNING *
), queued AS ({enqueue_for_rows(RANK_NEED, "written", "written.status = 'open'")})
{_COLUMNS.replace("SELECT", "SELECT allowed.ord,", 1)}
FROM written n JOIN allowed ON allowed.id = n.id LEFT JOIN organisations o ON o.id = n.buyer_id
"""


async def insert_posted_needs(
    connection: Connection, posted: list[tuple[int, Mapping[str, object]]]
) -> list[Need | None]:
    """Write buyers' needs, each `(buyer_id, fields)` with every NEED_COLUMNS, in one statement,
    each open one with its ranking job; the needs in order, None where the buyer is not an
    approved buyer organisation (a draft needs no approval). Outside a transaction block the
    statement commits as a whole."""
    rows = []
    for buyer_id, fields in posted:
        if set(fields) != set(NEED_COLUMNS):
            raise ValueError(f"a posted need has every column: {sorted(fields)}")
        rows.append({"buyer_id": buyer_id, **fields})
    found: list[Need | None] = [None] * len(rows)
    for row in await connection.fetch(_INSERT_POSTED, rows):
        found[row["ord"] - 1] = _need(row)
    return found
