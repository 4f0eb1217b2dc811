"""Procurement needs: buyers post what they want bought, where, how much and by when."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal
from uuid import uuid4

import asyncpg
import msgspec
from msgspec import Meta

from asfmatch.matching.advice import split_evenly
from asfmatch.services.access import may_write_need, require
from asfmatch.services.approval import refuse_while_pending
from asfmatch.services.errors import (
    Conflict,
    FieldError,
    Forbidden,
    Invalid,
    NotFound,
)
from asfmatch.services.fields import (
    AwareDatetime,
    Count,
    CpvCodes,
    Id,
    KommunCode,
    LongText,
    Name,
    Sek,
)
from asfmatch.services.validation import Checker
from asfmatch.storage import jobs, matches
from asfmatch.storage import joint_bids as joint_bids_repo
from asfmatch.storage import needs as repo
from asfmatch.storage import organisations as organisations_repo
from asfmatch.storage.db import Connection
from asfmatch.storage.group_commit import GroupCommit
from asfmatch.storage.needs import LotRef, Need, NeedFilter
from asfmatch.storage.organisations import Principal
from asfmatch.storage.paging import Page

# A joint procurement names up to this many kommuner.
KommunList = Annotated[list[KommunCode], Meta(min_length=1, max_length=50)]

# A procurement split into lots names at most this many (the advice suggests at most
# ASFMATCH_ADVICE_MAX_LOTS; a buyer may split finer on its own judgement).
MAX_LOTS = 50
LotCount = Annotated[int, Meta(ge=2, le=MAX_LOTS)]

NeedStatus = Literal["draft", "open", "closed", "withdrawn"]
# Where a need came from: posted here, or imported from a TED eForms notice or an OCDS release.
NeedSource = Literal["asfmatch", "ted", "ocds"]


class NeedCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A procurement need. Admins acting for a buyer name it in `buyer_id`. Where: `kommun`,
    or `kommuner` for a joint procurement (a supplier alone must serve all of them); with
    both, `kommun` must be one of `kommuner` and comes first."""

    title: Name
    description: LongText = ""
    cpv_codes: CpvCodes = msgspec.field(default_factory=list)
    kommun: KommunCode | None = None
    kommuner: KommunList | None = None
    estimated_value_sek: Sek | None = None
    reserved: bool = False
    training_places: Count = 0
    closes_at: AwareDatetime | None = None
    status: Literal["draft", "open"] = "open"
    buyer_id: Id | None = None


class NeedLotsCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A need split into `lots` lots of one procurement, each posted as a need of its own
    (matched, answered and awarded separately). The value and training places are shared out
    evenly; the first `reserved_lots` lots are reserved (LOU 4 kap. 18 §), or, when it is left
    out, every lot is reserved as `need.reserved` says. `lot_titles` names the lots."""

    need: NeedCreate
    lots: LotCount
    reserved_lots: Annotated[int, Meta(ge=0, le=MAX_LOTS)] | None = None
    lot_titles: Annotated[list[Name], Meta(min_length=2, max_length=MAX_LOTS)] | None = None


class NeedLots(msgspec.Struct, kw_only=True):
    """The lots as posted, in lot order, and the procedure they share."""

    procedure_id: str
    needs: list[Need]


class NeedUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Fields to change; absent fields stay as they are. Close or withdraw via their actions."""

    title: Name | msgspec.UnsetType = msgspec.UNSET
    description: LongText | msgspec.UnsetType = msgspec.UNSET
    cpv_codes: CpvCodes | msgspec.UnsetType = msgspec.UNSET
    kommun: KommunCode | msgspec.UnsetType = msgspec.UNSET
    kommuner: KommunList | msgspec.UnsetType = msgspec.UNSET
    estimated_value_sek: Sek | msgspec.UnsetType | None = msgspec.UNSET
    reserved: bool | msgspec.UnsetType = msgspec.UNSET
    training_places: Count | msgspec.UnsetType = msgspec.UNSET
    closes_at: AwareDatetime | msgspec.UnsetType | None = msgspec.UNSET
    status: Literal["draft", "open"] | msgspec.UnsetType = msgspec.UNSET


class NeedQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Filters of a need listing as the client gave them (codes not yet checked)."""

    lan: str | None = None
    kommun: str | None = None
    cpv: str | None = None
    status: NeedStatus | None = None
    reserved: bool | None = None
    social_objective: bool | None = None
    source: NeedSource | None = None
    buyer_id: int | None = None
    q: str | None = None


def _checked_fields(body: NeedCreate | NeedUpdate) -> dict[str, Any]:
    fields = {
        name: value
        for name in body.__struct_fields__
        if name != "buyer_id" and (value := getattr(body, name)) is not msgspec.UNSET
    }
    for name in ("kommun", "kommuner"):
        if fields.get(name, 0) is None:
            del fields[name]
    check = Checker()
    _place(check, fields, creating=isinstance(body, NeedCreate))
    if "cpv_codes" in fields:
        fields["cpv_codes"] = check.cpv_codes("cpv_codes", fields["cpv_codes"])
    if fields.get("closes_at") is not None:
        check.future("closes_at", fields["closes_at"])
    if isinstance(fields.get("title"), str):
        fields["title"] = fields["title"].strip()
        if not fields["title"]:
            check.fail("title", "must not be blank")
    check.raise_if_failed()
    return fields


def _place(check: Checker, fields: dict[str, Any], *, creating: bool) -> None:
    """Check `kommun` / `kommuner` and set both: `kommun` is the first of `kommuner`."""
    kommun: str | None = fields.get("kommun")
    listed: list[str] | None = fields.get("kommuner")
    if kommun is None and listed is None:
        if creating:
            check.fail("kommun", "give kommun, or kommuner for a joint procurement")
        return
    if kommun is not None:
        check.kommun("kommun", kommun)
    codes: list[str] = []
    for position, code in enumerate(listed or []):
        if check.kommun(f"kommuner[{position}]", code) not in codes:
            codes.append(code)
    if kommun is not None and listed is not None:
        if kommun not in codes:
            check.fail("kommuner", f"must include kommun {kommun}")
            return
        codes.remove(kommun)
    ordered = [kommun, *codes] if kommun is not None else codes
    fields["kommun"], fields["kommuner"] = ordered[0], ordered


async def create_need(db: Connection, principal: Principal | None, body: NeedCreate) -> Need:
    """Post a need for the calling buyer (or, for an admin, for `buyer_id`); an open need is
    queued for ranking in the same transaction."""
    buyer_id = await _posting_buyer(db, principal, body)
    return await publish_need(db, buyer_id, _checked_fields(body))


# Needs posted by buyers, written in batches (storage/group_commit.py): (buyer_id, fields).
NeedWriter = GroupCommit[tuple[int, Mapping[str, object]], Need]


def need_writer(pool: asyncpg.Pool, acquire_timeout: float) -> NeedWriter:
    """The batching writer `post_need` hands its needs to."""
    return GroupCommit(pool, _write_posted, acquire_timeout=acquire_timeout)


async def _write_posted(
    db: Connection, posted: list[tuple[int, Mapping[str, object]]]
) -> list[Need | None]:
    return await repo.insert_posted_needs(db, posted)


async def post_need(
    writer: NeedWriter, principal: Principal | None, body: NeedCreate
) -> Need | None:
    """`create_need` without a connection of its own: checked in memory, then written by
    `writer` with the needs posted alongside it, committed when this returns. None when it
    needs `create_need` (to name what is wrong, or an admin naming no buyer): this path
    refuses, never explains."""
    principal = require(principal, "admin", "buyer")
    if principal.role == "buyer" and body.buyer_id in (None, principal.organisation_id):
        buyer_id = principal.organisation_id
    elif principal.role == "admin" and body.buyer_id is not None:
        buyer_id = body.buyer_id
    else:
        return None
    try:
        fields = _checked_fields(body)
    except Invalid:
        # create_need checks the buyer first; its answer names that before the fields.
        return None
    return await writer.submit((buyer_id, fields))


async def create_lots(
    db: Connection, principal: Principal | None, body: NeedLotsCreate
) -> NeedLots:
    """Post a need split into lots, all or none (one transaction); each open lot is queued for
    ranking like any need."""
    check = Checker()
    if body.reserved_lots is not None and body.reserved_lots > body.lots:
        check.fail("reserved_lots", f"must be at most lots ({body.lots})")
    if body.lot_titles is not None and len(body.lot_titles) != body.lots:
        check.fail("lot_titles", f"must name each of the {body.lots} lots")
    titles = [title.strip() for title in body.lot_titles or []]
    for position, title in enumerate(titles):
        if not title:
            check.fail(f"lot_titles[{position}]", "must not be blank")
    check.raise_if_failed()
    try:
        buyer_id = await _posting_buyer(db, principal, body.need)
        fields = _checked_fields(body.need)
    except Invalid as error:
        # The need's own rules name its fields; here they sit under `need`.
        raise Invalid([FieldError(f"need.{e.field}", e.reason) for e in error.errors]) from None
    value: int | None = fields.get("estimated_value_sek")
    values = None if value is None else split_evenly(value, body.lots)
    places = split_evenly(fields.get("training_places", 0), body.lots)
    procedure_id = f"asfmatch-{uuid4()}"
    posted = []
    for index in range(body.lots):
        reserved = (
            fields.get("reserved", False)
            if body.reserved_lots is None
            else index < body.reserved_lots
        )
        lot = {
            **fields,
            "title": titles[index] if titles else lot_title(fields["title"], index + 1, body.lots),
            "estimated_value_sek": None if values is None else values[index],
            "training_places": places[index],
            "reserved": reserved,
            "procedure_id": procedure_id,
            "lot_id": f"LOT-{index + 1:04d}",
        }
        posted.append(await publish_need(db, buyer_id, lot))
    return NeedLots(procedure_id=procedure_id, needs=posted)


def lot_title(title: str, number: int, lots: int) -> str:
    """A lot's title: the need's, shortened to leave room, and which lot of how many."""
    suffix = f" – delkontrakt {number} av {lots}"
    return title[: 200 - len(suffix)].rstrip() + suffix


async def _posting_buyer(db: Connection, principal: Principal | None, body: NeedCreate) -> int:
    """The buyer a new need is posted for: the caller's own organisation, or the one an admin
    names; a buyer awaiting approval may only save drafts."""
    principal = require(principal, "admin", "buyer")
    if principal.role == "buyer":
        if body.buyer_id not in (None, principal.organisation_id):
            raise Forbidden("a buyer key may only post needs for its own organisation")
        buyer_id = principal.organisation_id
    else:
        if body.buyer_id is None:
            raise Invalid([_missing_buyer])
        buyer = await organisations_repo.get_organisation(db, body.buyer_id)
        if buyer is None or buyer.kind != "buyer":
            raise Invalid([_not_a_buyer(body.buyer_id)])
        buyer_id = buyer.id
    if body.status == "open":
        await refuse_while_pending(db, buyer_id, "status")
    return buyer_id


async def publish_need(db: Connection, buyer_id: int | None, fields: Mapping[str, object]) -> Need:
    """Store a need from checked `fields` and, when open, queue it for ranking in the same
    transaction; matches, notifications and webhooks follow from that job. Posted and imported
    needs (`buyer_id` None: a notice's buyer without an account) both come through here."""
    return await repo.insert_need(db, buyer_id, fields, rank_job=jobs.RANK_NEED)


async def list_needs(
    db: Connection, principal: Principal | None, query: NeedQuery, page: int, page_size: int
) -> Page[Need]:
    """Needs matching the filters; drafts only to their buyer (and admins)."""
    check = Checker()
    filters = NeedFilter(
        lan=None if query.lan is None else check.lan("lan", query.lan),
        kommun=None if query.kommun is None else check.kommun("kommun", query.kommun),
        cpv_prefix=None if query.cpv is None else check.cpv_prefix("cpv", query.cpv),
        status=query.status,
        reserved=query.reserved,
        social_objective=query.social_objective,
        source=query.source,
        buyer_id=query.buyer_id,
        query=query.q[:200] if query.q else None,
        drafts_of=principal.organisation_id if principal else None,
        all_drafts=principal is not None and principal.role == "admin",
    )
    check.raise_if_failed()
    return await repo.list_needs(db, filters, page=page, page_size=page_size)


async def read_need(db: Connection, principal: Principal | None, need_id: int) -> Need:
    """One need; a draft only to its buyer and admins (NotFound to everyone else)."""
    need = await repo.get_need(db, need_id)
    if need is None or (need.status == "draft" and not may_write_need(principal, need)):
        raise NotFound("need", need_id)
    return need


async def need_lots(db: Connection, principal: Principal | None, need_id: int) -> list[LotRef]:
    """The lots of a need's procedure, as `lots_of`; NotFound where the need is not visible."""
    return await lots_of(db, principal, await read_need(db, principal, need_id))


async def lots_of(db: Connection, principal: Principal | None, need: Need) -> list[LotRef]:
    """Every lot of the need's procedure (the need included), in lot order; drafts only to
    those who may see them. Empty for a need that is not split into lots."""
    if need.procedure_id is None:
        return []
    lots = await repo.procedure_lots(db, need.source, need.procedure_id)
    return [lot for lot in lots if lot.status != "draft" or may_write_need(principal, need)]


async def _owned_need(db: Connection, principal: Principal, need_id: int) -> Need:
    need = await read_need(db, principal, need_id)
    if not may_write_need(principal, need):
        raise Forbidden("you may only change your own organisation's needs")
    return need


async def need_changed(db: Connection, before: Need, after: Need) -> None:
    """Drop the old ranking in this transaction and queue what the change calls for (ranking
    the need again, and the suppliers whose lists lose it)."""
    if after == before:
        return
    lost_by = await matches.forget_need(db, after.id)
    await joint_bids_repo.forget_need(db, after.id)
    if after.status == "open":
        await jobs.enqueue(db, jobs.RANK_NEED, after.id)
    for supplier_id in lost_by:
        await jobs.enqueue(db, jobs.RANK_SUPPLIER, supplier_id)


async def update_need(
    db: Connection, principal: Principal | None, need_id: int, body: NeedUpdate
) -> Need:
    """Change a need (its buyer or an admin); it is ranked again."""
    before = await _owned_need(db, require(principal, "admin", "buyer"), need_id)
    if before.status in {"closed", "withdrawn"}:
        raise Conflict(f"need {need_id} is {before.status}; post a new need instead")
    if body.status == "open" and before.buyer_id is not None:
        await refuse_while_pending(db, before.buyer_id, "status")
    after = await repo.update_need(db, need_id, _checked_fields(body))
    assert after is not None
    await need_changed(db, before, after)
    return after


async def end_need(
    db: Connection,
    principal: Principal | None,
    need_id: int,
    status: Literal["closed", "withdrawn"],
) -> Need:
    """Close (procured: only an open need) or withdraw (cancelled: an open need or a draft);
    it leaves every match list. Repeating the same action is harmless."""
    before = await _owned_need(db, require(principal, "admin", "buyer"), need_id)
    if before.status == status:
        return before
    allowed_from = {"closed": {"open"}, "withdrawn": {"open", "draft"}}[status]
    if before.status not in allowed_from:
        raise Conflict(f"need {need_id} is {before.status}; it cannot be {status}")
    after = await repo.update_need(db, need_id, {"status": status})
    assert after is not None
    await need_changed(db, before, after)
    return after


_missing_buyer = FieldError("buyer_id", "an admin posting a need must name the buyer it acts for")


def _not_a_buyer(buyer_id: int) -> FieldError:
    return FieldError("buyer_id", f"organisation {buyer_id} is not a buyer")
