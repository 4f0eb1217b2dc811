"""OCDS release and record packages (JSON): each release's tender (a record's compiled release),
one need per lot (or one for the tender)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from asfmatch.notices.model import Notice, NoticeForm, NoticeLot
from asfmatch.notices.places import Address
from asfmatch.reference.org_numbers import normalise_org_number

# Swedish organisation numbers in OCDS identifiers (org-id.guide: Bolagsverket).
SWEDISH_SCHEMES = frozenset({"SE-BLV", "SE-ON"})


class OcdsError(ValueError):
    """The JSON is not an OCDS release, release or record package, or list of releases."""

    def __init__(self, message: str, path: str = "$") -> None:
        super().__init__(message)
        self.path = path


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: object) -> str | None:
    if isinstance(value, str | int) and not isinstance(value, bool):
        text = " ".join(str(value).split())
        return text or None
    return None


def _when(value: object) -> datetime | None:
    text = _str(value)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _amount(value: object) -> tuple[Decimal | None, str | None]:
    block = _dict(value)
    raw = block.get("amount")
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        return None, None
    try:
        amount = Decimal(str(raw))
    except InvalidOperation:
        return None, None
    if not amount.is_finite() or amount < 0:
        return None, None
    return amount, _str(block.get("currency"))


def _address(value: object) -> Address:
    block = _dict(value)
    return Address(
        nuts=_str(block.get("region")) if str(block.get("region", "")).startswith("SE") else None,
        town=_str(block.get("locality")) or _str(block.get("region")),
        postcode=_str(block.get("postalCode")),
        country=_str(block.get("countryName")) or _str(block.get("country")),
    )


def _cpv(items: list[Any]) -> tuple[str, ...]:
    codes: list[str] = []
    for item in items:
        item = _dict(item)
        for block in [item.get("classification"), *_list(item.get("additionalClassifications"))]:
            block = _dict(block)
            code = _str(block.get("id"))
            if code and str(block.get("scheme", "CPV")).upper() == "CPV":
                codes.append(code.split("-")[0])
    return tuple(dict.fromkeys(codes))


def _buyer(release: dict[str, Any]) -> tuple[str | None, str | None, Address]:
    buyer = _dict(release.get("buyer"))
    parties = [_dict(party) for party in _list(release.get("parties"))]
    party = next(
        (p for p in parties if buyer.get("id") is not None and p.get("id") == buyer.get("id")),
        next((p for p in parties if "buyer" in _list(p.get("roles"))), {}),
    )
    name = _str(buyer.get("name")) or _str(party.get("name"))
    number = None
    for identifier in [party.get("identifier"), *_list(party.get("additionalIdentifiers"))]:
        identifier = _dict(identifier)
        if str(identifier.get("scheme", "")).upper() in SWEDISH_SCHEMES:
            try:
                number = normalise_org_number(str(identifier.get("id", "")))
                break
            except ValueError:
                continue
    return name, number, _address(party.get("address"))


def _reserved(tender: dict[str, Any]) -> tuple[str, ...]:
    other = _dict(tender.get("otherRequirements"))
    return tuple(
        code for code in (_str(v) for v in _list(other.get("reservedParticipation"))) if code
    )


def _social(tender: dict[str, Any]) -> bool:
    goals = [_str(_dict(s).get("goal")) or "" for s in _list(tender.get("sustainability"))]
    return any(goal.startswith("social") for goal in goals)


_FORMS: dict[str, NoticeForm] = {
    "tender": "competition",
    "tenderUpdate": "competition",
    "tenderAmendment": "competition",
    "tenderCancellation": "competition",
    "planning": "planning",
    "planningUpdate": "planning",
    "award": "award",
    "awardUpdate": "award",
    "contract": "award",
}


def _notice_link(tender: dict[str, Any]) -> str | None:
    # OCDS has no "link to the notice" field; publishers put the notice among the documents.
    for document in (_dict(d) for d in _list(tender.get("documents"))):
        url = _str(document.get("url"))
        if document.get("documentType") == "tenderNotice" and url and url.startswith("http"):
            return url
    return None


def parse_release(release: dict[str, Any], path: str) -> Notice:
    """One release as a notice; raise OcdsError when it has no ocid, id or tender."""
    ocid, release_id = _str(release.get("ocid")), _str(release.get("id"))
    if ocid is None:
        raise OcdsError("the release has no ocid", f"{path}.ocid")
    if release_id is None:
        raise OcdsError("the release has no id", f"{path}.id")
    tender = release.get("tender")
    if not isinstance(tender, dict):
        raise OcdsError("the release has no tender", f"{path}.tender")
    tags = [tag for tag in (_str(t) for t in _list(release.get("tag"))) if tag]
    form: NoticeForm = next((_FORMS[tag] for tag in tags if tag in _FORMS), "competition")
    buyer_name, buyer_number, buyer_address = _buyer(release)
    items = _list(tender.get("items"))
    tender_addresses = tuple(
        _address(a) for item in items for a in _list(_dict(item).get("deliveryAddresses"))
    )
    closes_at = _when(_dict(tender.get("tenderPeriod")).get("endDate"))
    value, currency = _amount(tender.get("value"))
    reserved = _reserved(tender)
    social = _social(tender)
    title = _str(tender.get("title")) or ""
    description = _str(tender.get("description")) or ""
    lots: list[NoticeLot] = []
    for lot in (_dict(item) for item in _list(tender.get("lots"))):
        lot_id = _str(lot.get("id"))
        if lot_id is None:
            continue
        lot_items = [_dict(i) for i in items if _str(_dict(i).get("relatedLot")) == lot_id]
        lot_value, lot_currency = _amount(lot.get("value"))
        addresses = tuple(
            _address(a) for item in lot_items for a in _list(item.get("deliveryAddresses"))
        )
        lots.append(
            NoticeLot(
                lot_id=lot_id,
                title=_str(lot.get("title")) or title,
                description=_str(lot.get("description")) or description,
                cpv_codes=_cpv(lot_items) or _cpv(items),
                addresses=addresses or tender_addresses,
                value=lot_value,
                currency=lot_currency,
                closes_at=closes_at,
                reserved_participation=reserved,
                social_objective=social,
                deadline_xpath=f"{path}.tender.tenderPeriod.endDate",
            )
        )
    if not lots:
        lots.append(
            NoticeLot(
                lot_id=_str(tender.get("id")) or "tender",
                title=title,
                description=description,
                cpv_codes=_cpv(items),
                addresses=tender_addresses,
                value=value,
                currency=currency,
                closes_at=closes_at,
                reserved_participation=reserved,
                social_objective=social,
                deadline_xpath=f"{path}.tender.tenderPeriod.endDate",
            )
        )
    status = _str(tender.get("status"))
    return Notice(
        source="ocds",
        procedure_id=ocid,
        notice_id=release_id,
        version=release_id,
        form=form,
        notice_type=",".join(tags) or "release",
        issued_at=_when(release.get("date")),
        language=_str(release.get("language")),
        buyer_name=buyer_name,
        buyer_org_number=buyer_number,
        buyer_country=buyer_address.country,
        buyer_address=buyer_address,
        link=_notice_link(tender),
        cancelled=status in {"cancelled", "withdrawn"} or "tenderCancellation" in tags,
        lots=tuple(lots),
    )


def _record_release(record: dict[str, Any], path: str) -> tuple[dict[str, Any], str]:
    """The release that says where a record's process stands now: its compiled release, else
    the newest release embedded in full. Linked releases (only a URL) cannot be read offline."""
    compiled = record.get("compiledRelease")
    if isinstance(compiled, dict):
        release = dict(compiled)
        embedded = [r for r in _list(record.get("releases")) if isinstance(r, dict)]
        # A compiled release's id is optional (and not a version); the newest release it was
        # compiled from names the version, so a re-export of the same record imports nothing.
        if _str(release.get("id")) is None or "compiled" in _list(release.get("tag")):
            newest = max(embedded, key=lambda r: _str(r.get("date")) or "", default=None)
            stamp = _str(newest.get("id")) if newest else None
            release["id"] = stamp or f"{_str(record.get('ocid'))}@{_str(release.get('date'))}"
        release.setdefault("ocid", record.get("ocid"))
        # A compiled release is tagged "compiled"; what the process is now decides the form.
        release["tag"] = ["award"] if _list(release.get("awards")) else ["tender"]
        return release, f"{path}.compiledRelease"
    full = [
        (index, r)
        for index, r in enumerate(_list(record.get("releases")))
        if isinstance(r, dict) and "tender" in r
    ]
    if not full:
        raise OcdsError(
            "the record has no compiledRelease and links its releases by URL only; "
            "import the release package they link to",
            f"{path}.releases",
        )
    index, release = max(full, key=lambda pair: _str(pair[1].get("date")) or "")
    return release, f"{path}.releases[{index}]"


def parse_ocds(raw: bytes) -> list[Notice | OcdsError]:
    """Every release in a release package, a record package (each record's compiled release),
    a list of releases or a single release; one that cannot be read is returned as its error,
    so the others still import."""
    try:
        document = msgspec.json.decode(raw)
    except msgspec.DecodeError as error:
        raise OcdsError(f"not valid JSON: {error}") from None
    if isinstance(document, dict) and "records" in document:
        return _parse_records(document["records"])
    if isinstance(document, dict) and "releases" in document:
        releases, base = document["releases"], "$.releases"
    elif isinstance(document, list):
        releases, base = document, "$"
    elif isinstance(document, dict) and "ocid" in document:
        releases, base = [document], ""
    else:
        raise OcdsError(
            "expected a release package (an object with `releases`), a record package "
            "(`records`) or a release"
        )
    if not isinstance(releases, list):
        raise OcdsError("`releases` must be a list", base)
    notices: list[Notice | OcdsError] = []
    for index, release in enumerate(releases):
        path = f"{base}[{index}]" if base else "$"
        if not isinstance(release, dict):
            notices.append(OcdsError("a release must be an object", path))
            continue
        try:
            notices.append(parse_release(release, path))
        except OcdsError as error:
            notices.append(error)
    return notices


def _parse_records(records: object) -> list[Notice | OcdsError]:
    if not isinstance(records, list):
        raise OcdsError("`records` must be a list", "$.records")
    notices: list[Notice | OcdsError] = []
    for index, record in enumerate(records):
        path = f"$.records[{index}]"
        if not isinstance(record, dict):
            notices.append(OcdsError("a record must be an object", path))
            continue
        try:
            release, release_path = _record_release(record, path)
            notices.append(parse_release(release, release_path))
        except OcdsError as error:
            notices.append(error)
    return notices
