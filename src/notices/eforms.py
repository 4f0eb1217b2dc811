"""eForms (UBL) notices: contract notices and prior information notices, one lot per need.

XPaths follow the eForms SDK's fields.json (BT-… identifiers in the comments)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation

from lxml import etree

from asfmatch.notices.model import Notice, NoticeForm, NoticeLot
from asfmatch.notices.places import Address
from asfmatch.reference.org_numbers import normalise_org_number

NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "ext": "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2",
    "efext": "http://data.europa.eu/p27/eforms-ubl-extensions/1",
    "efac": "http://data.europa.eu/p27/eforms-ubl-extension-aggregate-components/1",
    "efbc": "http://data.europa.eu/p27/eforms-ubl-extension-basic-components/1",
}
_EXT = "ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent/efext:EformsExtension"
NOTICE_ID_XPATH = "/*/cbc:ID[@schemeName='notice-id']"  # BT-701
LOT_XPATH = "/*/cac:ProcurementProjectLot[cbc:ID/@schemeName='Lot' or cbc:ID/@schemeName='Part']"
DEADLINE_XPATH = LOT_XPATH + "/cac:TenderingProcess/cac:TenderSubmissionDeadlinePeriod"  # BT-131
PREFERRED_LANGUAGE = "SWE"
TED_NOTICE_URL = "https://ted.europa.eu/en/notice/-/detail/{}"

_FORMS: dict[str, NoticeForm] = {
    "ContractNotice": "competition",
    "PriorInformationNotice": "planning",
    "ContractAwardNotice": "award",
}

# No DTDs, no entities, no network: a notice file is untrusted input.
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
)


class NoticeParseError(ValueError):
    """The document is not a usable eForms notice; `xpath` says where it fell short."""

    def __init__(self, message: str, xpath: str = "/") -> None:
        super().__init__(message)
        self.xpath = xpath


def looks_like_eforms(raw: bytes) -> bool:
    """True when the bytes look like XML (the importer then parses them as eForms)."""
    return raw.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def _nodes(node: etree._Element, xpath: str) -> list[etree._Element]:
    found = node.xpath(xpath, namespaces=NS)
    assert isinstance(found, list)
    return [item for item in found if isinstance(item, etree._Element)]


def _first_text(node: etree._Element, xpath: str) -> str | None:
    for item in _nodes(node, xpath):
        text = (item.text or "").strip()
        if text:
            return text
    return None


def _texts(node: etree._Element, xpath: str) -> list[str]:
    return [text for item in _nodes(node, xpath) if (text := (item.text or "").strip())]


def _in_language(node: etree._Element, xpath: str, language: str | None) -> str | None:
    """The text in `language` (the notice's chosen one), else the first non-empty one."""
    items = [item for item in _nodes(node, xpath) if (item.text or "").strip()]
    for item in items:
        if item.get("languageID") == language:
            return " ".join((item.text or "").split())
    return " ".join((items[0].text or "").split()) if items else None


def _language(root: etree._Element) -> str | None:
    # Swedish when the notice has it (as its language or one of its text languages), otherwise
    # the notice's own language (BT-702), otherwise whatever the first text is written in.
    declared = _texts(root, "cbc:NoticeLanguageCode") + _texts(
        root, "cac:AdditionalNoticeLanguage/cbc:ID"
    )
    found = root.xpath("//@languageID")
    used = [str(value) for value in found] if isinstance(found, list) else []
    if PREFERRED_LANGUAGE in declared or PREFERRED_LANGUAGE in used:
        return PREFERRED_LANGUAGE
    if declared:
        return declared[0]
    return used[0] if used else None


def _offset(raw: str) -> tuple[str, timezone | None]:
    found = re.match(r"^(.*?)(Z|[+-]\d\d:\d\d)?$", raw.strip())
    assert found is not None
    body, zone = found.group(1), found.group(2)
    if zone is None:
        return body, None
    if zone == "Z":
        return body, UTC
    sign = 1 if zone[0] == "+" else -1
    hours, minutes = int(zone[1:3]), int(zone[4:6])
    return body, timezone(sign * timedelta(hours=hours, minutes=minutes))


_STOCKHOLM_WINTER = timezone(timedelta(hours=1))


def parse_deadline(end_date: str, end_time: str | None) -> datetime:
    """BT-131: a date with an offset ("2026-03-02+01:00") and an optional time; without a time
    the whole day counts."""
    day_text, day_zone = _offset(end_date)
    day = date.fromisoformat(day_text)
    if end_time:
        time_text, time_zone = _offset(end_time)
        moment = time.fromisoformat(time_text)
        zone = time_zone or day_zone or _STOCKHOLM_WINTER
    else:
        moment = time(23, 59, 59)
        zone = day_zone or _STOCKHOLM_WINTER
    return datetime.combine(day, moment, tzinfo=zone)


def _issued_at(root: etree._Element) -> datetime | None:
    issue_date = _first_text(root, "cbc:IssueDate")  # BT-05(a)
    if issue_date is None:
        return None
    try:
        return parse_deadline(issue_date, _first_text(root, "cbc:IssueTime"))
    except ValueError:
        return None


def _address(node: etree._Element) -> Address:
    return Address(
        nuts=_first_text(node, "cbc:CountrySubentityCode"),
        town=_first_text(node, "cbc:CityName"),
        postcode=_first_text(node, "cbc:PostalZone"),
        country=_first_text(node, "cac:Country/cbc:IdentificationCode"),
    )


def _organisation_number(raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        return normalise_org_number(raw.replace(" ", ""))
    except ValueError:
        return None


def _buyer(root: etree._Element, language: str | None) -> tuple[str | None, str | None, Address]:
    """(name BT-500, Swedish organisation number BT-501 or None, address) of the first buyer."""
    buyer_ref = _first_text(root, "cac:ContractingParty/cac:Party/cac:PartyIdentification/cbc:ID")
    companies = _nodes(root, f"{_EXT}/efac:Organizations/efac:Organization/efac:Company")
    chosen = next(
        (
            company
            for company in companies
            if _first_text(company, "cac:PartyIdentification/cbc:ID") == buyer_ref
        ),
        companies[0] if companies else None,
    )
    if chosen is None:
        return None, None, Address()
    name = _in_language(chosen, "cac:PartyName/cbc:Name", language)
    number = _organisation_number(_first_text(chosen, "cac:PartyLegalEntity/cbc:CompanyID"))
    addresses = _nodes(chosen, "cac:PostalAddress")
    return name, number, _address(addresses[0]) if addresses else Address()


def _value(node: etree._Element) -> tuple[Decimal | None, str | None]:
    # BT-27: the lot's estimated value with its currency.
    for item in _nodes(node, "cac:RequestedTenderTotal/cbc:EstimatedOverallContractAmount"):
        try:
            amount = Decimal((item.text or "").strip())
        except InvalidOperation:
            continue
        if amount.is_finite() and amount >= 0:
            return amount, item.get("currencyID")
    return None, None


def _codes(node: etree._Element, list_name: str, xpath: str) -> tuple[str, ...]:
    return tuple(_texts(node, f"{xpath}[@listName='{list_name}']"))


def _cpv(project: etree._Element) -> tuple[str, ...]:
    # BT-262 main classification, then BT-263 additional ones.
    main = _texts(project, "cac:MainCommodityClassification/cbc:ItemClassificationCode")
    extra = _texts(project, "cac:AdditionalCommodityClassification/cbc:ItemClassificationCode")
    return tuple(dict.fromkeys(code.split("-")[0] for code in main + extra))


def _lot(
    lot: etree._Element, procedure: etree._Element | None, language: str | None, index: int
) -> NoticeLot:
    lot_id = _first_text(lot, "cbc:ID") or f"LOT-{index:04d}"
    project = (_nodes(lot, "cac:ProcurementProject") or [lot])[0]
    title = _in_language(project, "cbc:Name", language)  # BT-21
    description = _in_language(project, "cbc:Description", language)  # BT-24
    cpv = _cpv(project)
    addresses = [_address(node) for node in _nodes(project, "cac:RealizedLocation/cac:Address")]
    value, currency = _value(project)
    if procedure is not None:
        # A lot inherits what it leaves out from the procedure (one-lot notices often do).
        title = title or _in_language(procedure, "cbc:Name", language)
        description = description or _in_language(procedure, "cbc:Description", language)
        cpv = cpv or _cpv(procedure)
        if not addresses:
            addresses = [
                _address(node) for node in _nodes(procedure, "cac:RealizedLocation/cac:Address")
            ]
    end_date = _first_text(
        lot, "cac:TenderingProcess/cac:TenderSubmissionDeadlinePeriod/cbc:EndDate"
    )
    end_time = _first_text(
        lot, "cac:TenderingProcess/cac:TenderSubmissionDeadlinePeriod/cbc:EndTime"
    )
    closes_at = None
    if end_date is not None:
        try:
            closes_at = parse_deadline(end_date, end_time)
        except ValueError:
            raise NoticeParseError(
                f"lot {lot_id}: deadline {end_date!r} is not a date",
                DEADLINE_XPATH + "/cbc:EndDate",
            ) from None
    reserved = _codes(
        lot,
        "reserved-procurement",
        "cac:TenderingTerms/cac:TendererQualificationRequest/cac:SpecificTendererRequirement"
        "/cbc:TendererRequirementTypeCode",
    )  # BT-71
    execution = _codes(
        lot,
        "reserved-execution",
        "cac:TenderingTerms/cac:ContractExecutionRequirement/cbc:ExecutionRequirementCode",
    )  # BT-736
    strategic = _codes(
        project, "strategic-procurement", "cac:ProcurementAdditionalType/cbc:ProcurementTypeCode"
    )  # BT-06
    social = _codes(
        project, "social-objective", "cac:ProcurementAdditionalType/cbc:ProcurementTypeCode"
    )  # BT-775
    return NoticeLot(
        lot_id=lot_id,
        title=title or "",
        description=description or "",
        cpv_codes=cpv,
        addresses=tuple(addresses),
        value=value,
        currency=currency,
        closes_at=closes_at,
        reserved_participation=tuple(code for code in reserved if code != "none"),
        reserved_execution="yes" in execution,
        social_objective="soc-obj" in strategic or any(code != "none" for code in social),
        deadline_xpath=DEADLINE_XPATH,
    )


def parse_eforms(raw: bytes) -> Notice:
    """Read one eForms notice; raise NoticeParseError when it is not XML or not eForms."""
    try:
        root = etree.fromstring(raw, _PARSER)
    except etree.XMLSyntaxError as error:
        raise NoticeParseError(f"not well-formed XML: {error}") from None
    kind = etree.QName(root).localname
    if root.xpath("namespace-uri()") == "" or _nodes(root, "cbc:UBLVersionID") == []:
        raise NoticeParseError(f"<{kind}> is not an eForms (UBL) notice", "/*/cbc:UBLVersionID")
    notice_id = _first_text(root, "cbc:ID[@schemeName='notice-id']")
    if notice_id is None:
        raise NoticeParseError("the notice has no notice identifier (BT-701)", NOTICE_ID_XPATH)
    language = _language(root)
    buyer_name, buyer_number, buyer_address = _buyer(root, language)
    publication = _first_text(root, f"{_EXT}/efac:Publication/efbc:NoticePublicationID")  # OPP-010
    changed = _first_text(root, f"{_EXT}/efac:Changes/efbc:ChangedNoticeIdentifier")  # BT-758
    change_reasons = _texts(root, f"{_EXT}/efac:Changes/efac:ChangeReason/cbc:ReasonCode")  # BT-140
    procedures = _nodes(root, "cac:ProcurementProject")
    procedure = procedures[0] if procedures else None
    lots = [
        _lot(lot, procedure, language, index)
        for index, lot in enumerate(_nodes(root, LOT_XPATH.removeprefix("/*/")))
    ]
    if not lots and procedure is not None:
        lots = [_lot(procedure, None, language, 0)]
    return Notice(
        source="ted",
        procedure_id=_first_text(root, "cbc:ContractFolderID") or notice_id,  # BT-04
        notice_id=notice_id,
        version=_first_text(root, "cbc:VersionID") or "01",  # BT-757
        form=_FORMS.get(kind, "other"),
        notice_type=_first_text(root, "cbc:NoticeTypeCode") or kind,  # BT-02
        issued_at=_issued_at(root),
        language=language,
        buyer_name=buyer_name,
        buyer_org_number=buyer_number,
        buyer_country=buyer_address.country,
        buyer_address=buyer_address,
        link=TED_NOTICE_URL.format(publication) if publication else None,
        changes_notice=changed,
        cancelled="cancel" in change_reasons,
        lots=tuple(lots),
    )
