"""A need and its award as an OCDS 1.1 release: the same vocabulary notices/ocds.py reads
(SE-ON organisation ids, CPV items, `otherRequirements.reservedParticipation`), written out.
A need that is one lot of a procedure is released as that lot of the procedure's contracting
process (the OCDS lots extension)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import msgspec

from asfmatch.reference.cpv import cpv_catalog
from asfmatch.reference.regions import kommuner, lan
from asfmatch.services import needs as needs_service
from asfmatch.storage.db import Connection
from asfmatch.storage.needs import LotRef, Need
from asfmatch.storage.organisations import Principal, get_organisation
from asfmatch.storage.outcomes import Outcome, get_outcome

# OCDS asks publishers to register an ocid prefix; until a municipality running asf-match
# registers its own, the prefix says plainly whose ids these are.
OCID_PREFIX = "ocds-asfmatch"
# org-id.guide's scheme for Swedish organisation numbers (Bolagsverket); notices/ocds.py reads it.
ORG_SCHEME = "SE-ON"
# The OCDS "Other requirements" extension's code for a contract reserved for sheltered
# workshops and economic operators whose aim is the integration of disadvantaged persons (LOU
# 4 kap. 18 §, directive 2014/24 art. 20).
RESERVED_CODE = "shelteredWorkshop"
_SWEDEN = ZoneInfo("Europe/Stockholm")


class _Struct(msgspec.Struct, omit_defaults=True, rename="camel", kw_only=True):
    pass


class OcdsValue(_Struct, kw_only=True):
    """An amount with its currency."""

    amount: float
    currency: str


class OcdsPeriod(_Struct, kw_only=True):
    """A period; dates are RFC 3339 date-times."""

    start_date: str | None = None
    end_date: str | None = None


class OcdsIdentifier(_Struct, kw_only=True):
    """An organisation identifier in a scheme."""

    scheme: str
    id: str
    legal_name: str | None = None


class OcdsParty(_Struct, kw_only=True):
    """An organisation involved in the process and its roles."""

    id: str
    name: str
    identifier: OcdsIdentifier
    roles: list[str]


class OcdsOrganisationReference(_Struct, kw_only=True):
    """A reference to an entry of `parties`."""

    id: str
    name: str


class OcdsClassification(_Struct, kw_only=True):
    """A CPV code with its label."""

    scheme: str
    id: str
    description: str | None = None


class OcdsAddress(_Struct, kw_only=True):
    """Where the need is delivered: kommun (locality), län (region), country."""

    country: str
    locality: str | None = None
    region: str | None = None


class OcdsItem(_Struct, kw_only=True):
    """What is bought: the CPV codes (first one primary) and the delivery place (the OCDS
    location extension's `deliveryAddresses`)."""

    id: str
    description: str
    classification: OcdsClassification | None = None
    additional_classifications: list[OcdsClassification] = msgspec.field(default_factory=list)
    delivery_addresses: list[OcdsAddress] = msgspec.field(default_factory=list)
    related_lot: str | None = None


class OcdsLot(_Struct, kw_only=True):
    """One lot of the procedure (the lots extension)."""

    id: str
    title: str
    status: str
    value: OcdsValue | None = None


class OcdsOtherRequirements(_Struct, kw_only=True):
    """The Other requirements extension: reserved participation."""

    reserved_participation: list[str] = msgspec.field(default_factory=list)


class OcdsTender(_Struct, kw_only=True):
    """The need as a tender."""

    id: str
    title: str
    description: str | None = None
    status: str
    items: list[OcdsItem]
    value: OcdsValue | None = None
    main_procurement_category: str | None = None
    tender_period: OcdsPeriod | None = None
    other_requirements: OcdsOtherRequirements | None = None
    lots: list[OcdsLot] = msgspec.field(default_factory=list)


class OcdsAward(_Struct, kw_only=True):
    """The award the buyer recorded."""

    id: str
    title: str
    status: str
    date: str
    value: OcdsValue | None = None
    suppliers: list[OcdsOrganisationReference]
    contract_period: OcdsPeriod | None = None
    related_lots: list[str] = msgspec.field(default_factory=list)


class OcdsRelease(_Struct, kw_only=True):
    """An OCDS 1.1 release of one need and its award."""

    ocid: str
    id: str
    date: str
    tag: list[str]
    initiation_type: str
    language: str
    parties: list[OcdsParty]
    buyer: OcdsOrganisationReference | None = None
    tender: OcdsTender
    awards: list[OcdsAward] = msgspec.field(default_factory=list)


def _moment(value: datetime) -> str:
    return value.astimezone(_SWEDEN).isoformat(timespec="seconds")


def _day_start(value: date) -> str:
    return _moment(datetime.combine(value, time(0, 0), tzinfo=_SWEDEN))


def _day_end(value: date) -> str:
    return _moment(datetime.combine(value, time(23, 59, 59), tzinfo=_SWEDEN))


def _party_id(org_number: str) -> str:
    return f"{ORG_SCHEME}-{org_number}"


def _category(cpv_codes: list[str]) -> str | None:
    # CPV divisions 03-44 are supplies, 45 works, 48 and up services.
    if not cpv_codes:
        return None
    division = int(cpv_codes[0][:2])
    return "works" if division == 45 else "goods" if division < 45 else "services"


def _classification(code: str) -> OcdsClassification:
    entry = cpv_catalog().get(code)
    return OcdsClassification(
        scheme="CPV",
        id=entry.code_with_check if entry else code,
        description=entry.label_sv if entry else None,
    )


def _address(need: Need) -> OcdsAddress:
    county = lan().get(need.lan)
    place = None if need.whole_lan else kommuner().get(need.kommun)
    return OcdsAddress(
        country="SE", locality=place.name if place else None, region=county.name if county else None
    )


def _status_of(need_status: str) -> str:
    return {"open": "active", "closed": "complete", "withdrawn": "withdrawn"}.get(
        need_status, "planned"
    )


def _tender_status(need: Need, outcome: Outcome | None) -> str:
    if outcome is not None:
        return {"awarded": "complete", "not_awarded": "unsuccessful", "cancelled": "cancelled"}[
            outcome.result
        ]
    return _status_of(need.status)


def _sek(amount: int | None) -> OcdsValue | None:
    return None if amount is None else OcdsValue(amount=float(amount), currency="SEK")


def procedure_ocid(source: str, procedure_id: str) -> str:
    """The ocid of a procedure's contracting process, shared by all its lots; the source keeps
    a notice's procedure id apart from one posted here (procedure_id is unique per source)."""
    # A procedure posted here is already named `asfmatch-<uuid>`.
    named = procedure_id if source == "asfmatch" else f"{source}-{procedure_id}"
    return f"{OCID_PREFIX}-{named}"


def _lots(
    need: Need, lot_id: str, outcome: Outcome | None, lots: Sequence[LotRef]
) -> list[OcdsLot]:
    listed = [
        OcdsLot(
            id=lot.lot_id,
            title=lot.title,
            # This lot's status knows its outcome; the other lots' follow their need's status.
            status=_tender_status(need, outcome) if lot.id == need.id else _status_of(lot.status),
            value=_sek(lot.estimated_value_sek),
        )
        for lot in lots
    ]
    if not any(lot.id == need.id for lot in lots):
        listed.append(
            OcdsLot(
                id=lot_id,
                title=need.title,
                status=_tender_status(need, outcome),
                value=_sek(need.estimated_value_sek),
            )
        )
    return listed


def release_of(
    need: Need,
    buyer_org_number: str | None,
    outcome: Outcome | None,
    lots: Sequence[LotRef] = (),
) -> OcdsRelease:
    """The OCDS release of a need as it stands, with its award when one is recorded; a lot as
    part of its procedure's contracting process, with the procedure's `lots` the caller sees."""
    ocid, tender_id, lot_id = f"{OCID_PREFIX}-{need.id}", str(need.id), None
    tender_lots: list[OcdsLot] = []
    if need.procedure_id is not None and need.lot_id is not None:
        ocid, tender_id, lot_id = (
            procedure_ocid(need.source, need.procedure_id),
            need.procedure_id,
            need.lot_id,
        )
        tender_lots = _lots(need, lot_id, outcome, lots)
    parties: list[OcdsParty] = []
    buyer = None
    if buyer_org_number is not None:
        buyer = OcdsOrganisationReference(id=_party_id(buyer_org_number), name=need.buyer_name)
        parties.append(
            OcdsParty(
                id=buyer.id,
                name=need.buyer_name,
                identifier=OcdsIdentifier(
                    scheme=ORG_SCHEME, id=buyer_org_number, legal_name=need.buyer_name
                ),
                roles=["buyer"],
            )
        )
    items = [
        OcdsItem(
            # Releases of one ocid merge items by id: each lot's item needs its own.
            id="1" if lot_id is None else f"{lot_id}-1",
            description=need.title,
            classification=_classification(need.cpv_codes[0]) if need.cpv_codes else None,
            additional_classifications=[_classification(c) for c in need.cpv_codes[1:]],
            delivery_addresses=[_address(need)],
            related_lot=lot_id,
        )
    ]
    value = _sek(need.estimated_value_sek)
    if tender_lots:
        # The tender's value is the whole procedure's: the lots' sum, when each lot has one.
        values = [lot.value.amount for lot in tender_lots if lot.value is not None]
        value = (
            OcdsValue(amount=sum(values), currency="SEK")
            if len(values) == len(tender_lots)
            else None
        )
    tender = OcdsTender(
        id=tender_id,
        title=need.title,
        description=need.description or None,
        status=_tender_status(need, outcome),
        items=items,
        value=value,
        main_procurement_category=_category(need.cpv_codes),
        tender_period=OcdsPeriod(
            start_date=_moment(need.created_at),
            end_date=None if need.closes_at is None else _moment(need.closes_at),
        ),
        other_requirements=OcdsOtherRequirements(reserved_participation=[RESERVED_CODE])
        if need.reserved
        else None,
        lots=tender_lots,
    )
    awards: list[OcdsAward] = []
    tag = ["tender"]
    moment = need.updated_at
    if outcome is not None:
        moment = max(moment, outcome.recorded_at)
        if outcome.result == "awarded":
            tag = ["award"]
            references = []
            for winner in outcome.awarded_to:
                reference = OcdsOrganisationReference(
                    id=_party_id(winner.org_number), name=winner.name
                )
                references.append(reference)
                parties.append(
                    OcdsParty(
                        id=reference.id,
                        name=winner.name,
                        identifier=OcdsIdentifier(
                            scheme=ORG_SCHEME, id=winner.org_number, legal_name=winner.name
                        ),
                        roles=["supplier"],
                    )
                )
            start, end = outcome.contract_start, outcome.contract_end
            awards.append(
                OcdsAward(
                    id=f"{need.id}-award",
                    title=need.title,
                    status="active",
                    date=_moment(outcome.recorded_at),
                    value=_sek(outcome.value_sek),
                    suppliers=references,
                    contract_period=None
                    if start is None and end is None
                    else OcdsPeriod(
                        start_date=None if start is None else _day_start(start),
                        end_date=None if end is None else _day_end(end),
                    ),
                    related_lots=[] if lot_id is None else [lot_id],
                )
            )
        elif outcome.result == "cancelled":
            tag = ["tenderCancellation"]
        else:
            tag = ["tenderUpdate"]
    stamp = _moment(moment)
    # Unique within the ocid: the lots of a procedure share it, so the lot is part of the id.
    release_id = (
        f"{ocid}-{tag[0]}-{stamp}" if lot_id is None else f"{ocid}-{lot_id}-{tag[0]}-{stamp}"
    )
    return OcdsRelease(
        ocid=ocid,
        id=release_id,
        date=stamp,
        tag=tag,
        initiation_type="tender",
        language="sv",
        parties=parties,
        buyer=buyer,
        tender=tender,
        awards=awards,
    )


async def need_release(db: Connection, principal: Principal | None, need_id: int) -> OcdsRelease:
    """A need (public unless a draft) and its award as an OCDS release; a lot with the
    procedure's lots the caller may see."""
    need = await needs_service.read_need(db, principal, need_id)
    number = need.buyer_org_number
    if need.buyer_id is not None:
        organisation = await get_organisation(db, need.buyer_id)
        number = organisation.org_number if organisation else number
    lots = await needs_service.lots_of(db, principal, need)
    return release_of(need, number, await get_outcome(db, need_id), lots)
