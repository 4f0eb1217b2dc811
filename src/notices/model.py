"""A notice as read from eForms XML or an OCDS release, before it becomes needs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

import msgspec

from asfmatch.notices.places import Address

Source = Literal["ted", "ocds"]
# "competition": a call for tenders (eForms CN, OCDS tender); "planning": a prior information
# notice; "award": the contract is already given; "other": anything else.
NoticeForm = Literal["competition", "planning", "award", "other"]


class NoticeLot(msgspec.Struct, frozen=True, kw_only=True):
    """One lot of a notice: it becomes one need."""

    lot_id: str
    title: str
    description: str
    cpv_codes: tuple[str, ...] = ()
    addresses: tuple[Address, ...] = ()
    value: Decimal | None = None
    currency: str | None = None
    closes_at: datetime | None = None
    # BT-71 code ("res-ws", "res-pub-ser", "none") or OCDS reservedParticipation.
    reserved_participation: tuple[str, ...] = ()
    reserved_execution: bool = False
    social_objective: bool = False
    # Where the deadline was read, for a "deadline passed" skip.
    deadline_xpath: str = ""


class Notice(msgspec.Struct, frozen=True, kw_only=True):
    """One notice (eForms) or release (OCDS) with its lots."""

    source: Source
    procedure_id: str
    notice_id: str
    version: str
    form: NoticeForm
    # The notice type as the format names it (cn-standard, pin-only, tender…).
    notice_type: str
    issued_at: datetime | None = None
    language: str | None = None
    buyer_name: str | None = None
    buyer_org_number: str | None = None
    buyer_country: str | None = None
    buyer_address: Address | None = None
    link: str | None = None
    # eForms BT-758 (the notice this one changes) and BT-140 "cancel", OCDS tender.status.
    changes_notice: str | None = None
    cancelled: bool = False
    lots: tuple[NoticeLot, ...] = ()

    @property
    def is_reserved(self) -> bool:
        """True when any lot is reserved for sheltered workshops / social integration."""
        return any(is_reserved(lot) for lot in self.lots)


RESERVED_CODES = frozenset({"res-ws", "shelteredworkshop"})


def is_reserved(lot: NoticeLot) -> bool:
    """Reserved under LOU 4 kap. 18 § (eForms BT-71 `res-ws`, BT-736, OCDS shelteredWorkshop)."""
    codes = {code.casefold() for code in lot.reserved_participation}
    return bool(codes & RESERVED_CODES) or lot.reserved_execution
