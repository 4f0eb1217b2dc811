"""Which lots of a notice become needs, and why the others are skipped (with file and XPath)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec

from asfmatch.matching.filters import whole_lan_kommun
from asfmatch.notices.model import Notice, NoticeLot, is_reserved
from asfmatch.notices.places import Address, Place, resolve_places
from asfmatch.reference.cpv import cpv_catalog, cpv_labels_sv, normalise_cpv

TITLE_MAX = 200
DESCRIPTION_MAX = 10_000
ID_MAX = 200
LOT_ID_MAX = 100
URL_MAX = 2000

_XPATHS = {
    "ted": {
        "form": "/*/cbc:NoticeTypeCode",
        "country": "/*/cac:ProcurementProjectLot/cac:ProcurementProject/cac:RealizedLocation"
        "/cac:Address/cac:Country/cbc:IdentificationCode",
        "text": "/*/cac:ProcurementProjectLot/cac:ProcurementProject/cbc:Name",
        "place": "/*/cac:ProcurementProjectLot/cac:ProcurementProject/cac:RealizedLocation"
        "/cac:Address",
    },
    "ocds": {
        "form": "$.tag",
        "country": "$.tender.items[].deliveryAddresses[].countryName",
        "text": "$.tender.title",
        "place": "$.tender.items[].deliveryAddresses",
    },
}


class Skip(msgspec.Struct, frozen=True, kw_only=True):
    """A notice (or one lot of it) that was not imported, and why."""

    file: str
    reason: str
    # XPath (eForms) or JSON path (OCDS) of what decided it.
    where: str = "/"
    notice_id: str | None = None
    lot_id: str | None = None

    def __str__(self) -> str:
        which = " ".join(
            part
            for part in (
                f"notice {self.notice_id}" if self.notice_id else "",
                f"lot {self.lot_id}" if self.lot_id else "",
            )
            if part
        )
        return f"{self.file}: {which + ': ' if which else ''}{self.reason} [{self.where}]"


class Candidate(msgspec.Struct, frozen=True, kw_only=True):
    """A lot that passed screening, with the need's fields."""

    notice: Notice
    lot: NoticeLot
    place: Place
    fields: dict[str, Any]


def _where(notice: Notice, key: str, lot: NoticeLot | None = None) -> str:
    if key == "deadline" and lot is not None:
        return lot.deadline_xpath or "/"
    return _XPATHS[notice.source][key]


def _cpv_codes(codes: tuple[str, ...]) -> list[str]:
    known = cpv_catalog()
    result: list[str] = []
    for raw in codes:
        code = normalise_cpv(raw)
        if code is not None and code in known and code not in result:
            result.append(code)
    return result


def _title(lot: NoticeLot, cpv: list[str]) -> str:
    # A notice without a title still has a subject: its description's start or its CPV label.
    title = lot.title.strip()
    if not title and lot.description:
        title = lot.description.split(". ")[0]
    if not title and cpv:
        title = cpv_labels_sv().get(cpv[0], cpv[0])
    return title[:TITLE_MAX].strip()


def _value_sek(value: Decimal | None, currency: str | None) -> int | None:
    # Only SEK becomes estimated_value_sek: a guessed exchange rate could exclude a supplier
    # for a few kronor, while an unknown value never limits anyone.
    if value is None or (currency or "SEK").upper() != "SEK":
        return None
    return int(value)


def _is_swedish(notice: Notice) -> bool:
    country = (notice.buyer_country or "").upper()
    lot_swedish = any(a.is_swedish() for lot in notice.lots for a in lot.addresses)
    return lot_swedish or country in {"SWE", "SE", "SWEDEN", "SVERIGE"}


def _places(notice: Notice) -> str:
    codes = sorted(
        {
            a.nuts or a.country or ""
            for lot in notice.lots
            for a in lot.addresses
            if a.nuts or a.country
        }
    )
    return ", ".join(codes) or "not given"


def need_fields(notice: Notice, lot: NoticeLot, place: Place) -> dict[str, Any]:
    """The need a lot becomes (storage.needs NEED_COLUMNS and NOTICE_COLUMNS)."""
    cpv = _cpv_codes(lot.cpv_codes)
    whole_lan = place.kommun is None
    return {
        "title": _title(lot, cpv),
        "description": lot.description[:DESCRIPTION_MAX],
        "cpv_codes": cpv,
        "kommun": whole_lan_kommun(place.lan) if whole_lan else place.kommun,
        "whole_lan": whole_lan,
        "estimated_value_sek": _value_sek(lot.value, lot.currency),
        "notice_value": lot.value,
        "notice_currency": (lot.currency or "").upper() or None,
        "reserved": is_reserved(lot),
        "reserved_execution": lot.reserved_execution,
        "social_objective": lot.social_objective,
        "closes_at": lot.closes_at,
        "status": "open",
        "source": notice.source,
        "buyer_name": (notice.buyer_name or "okänd köpare")[:300],
        "buyer_org_number": notice.buyer_org_number,
        "procedure_id": notice.procedure_id,
        "lot_id": lot.lot_id,
        "notice_id": notice.notice_id,
        "notice_version": notice.version,
        "notice_issued_at": notice.issued_at,
        "notice_url": notice.link if notice.link and len(notice.link) <= URL_MAX else None,
    }


def screen(notice: Notice, file: str, now: datetime) -> tuple[list[Candidate], list[Skip]]:
    """Split a notice's lots into needs to import and skips with reasons."""

    def skip(reason: str, where: str, lot: NoticeLot | None = None) -> Skip:
        return Skip(
            file=file,
            reason=reason,
            where=where,
            notice_id=notice.notice_id,
            lot_id=lot.lot_id if lot else None,
        )

    too_long = (
        len(notice.procedure_id) > ID_MAX
        or len(notice.notice_id) > ID_MAX
        or len(notice.version) > ID_MAX
    )
    if too_long:
        return [], [skip(f"unparseable: an identifier is longer than {ID_MAX}", "/")]
    if notice.form == "award":
        reason = f"award notice ({notice.notice_type}): the contract is already awarded"
        return [], [skip(reason, _where(notice, "form"))]
    if notice.form == "other":
        reason = f"not a call for competition or prior information ({notice.notice_type})"
        return [], [skip(reason, _where(notice, "form"))]
    if not _is_swedish(notice):
        reason = (
            f"not Swedish: buyer in {notice.buyer_country or 'an unknown country'}, "
            f"place of performance {_places(notice)}"
        )
        return [], [skip(reason, _where(notice, "country"))]
    if not notice.lots:
        return [], [skip("the notice has no lots", _where(notice, "text"))]
    candidates: list[Candidate] = []
    skips: list[Skip] = []
    buyer: tuple[Address, ...] = (notice.buyer_address,) if notice.buyer_address else ()
    for lot in notice.lots:
        if len(lot.lot_id) > LOT_ID_MAX:
            reason = f"unparseable: lot identifier longer than {LOT_ID_MAX}"
            skips.append(skip(reason, _where(notice, "text"), lot))
            continue
        if not (lot.title.strip() or lot.description.strip()) and not _cpv_codes(lot.cpv_codes):
            skips.append(skip("no text and no CPV code", _where(notice, "text"), lot))
            continue
        if lot.closes_at is not None and lot.closes_at <= now:
            reason = f"deadline passed ({lot.closes_at.isoformat(timespec='minutes')})"
            skips.append(skip(reason, _where(notice, "deadline", lot), lot))
            continue
        # Where the work is done; a lot that does not say is done where the buyer is.
        place = resolve_places(lot.addresses) or resolve_places(buyer)
        if place is None:
            reason = "no place of performance in Sweden that maps to a kommun or län"
            skips.append(skip(reason, _where(notice, "place"), lot))
            continue
        candidates.append(
            Candidate(notice=notice, lot=lot, place=place, fields=need_fields(notice, lot, place))
        )
    return candidates, skips
