"""Reading eForms notices (our Swedish fixtures and the eForms SDK examples) and OCDS releases."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from asfmatch.notices.eforms import NoticeParseError, parse_deadline, parse_eforms
from asfmatch.notices.model import Notice, is_reserved
from asfmatch.notices.ocds import OcdsError, parse_ocds
from asfmatch.notices.screening import screen

FIXTURES = Path(__file__).parent / "fixtures"
SDK_EXAMPLES = FIXTURES / "eforms-sdk"
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def _fixture(name: str) -> Notice:
    return parse_eforms((FIXTURES / name).read_bytes())


def test_a_reserved_swedish_contract_notice_reads_every_field() -> None:
    notice = _fixture("se_cn_reserved_lulea.xml")
    assert notice.form == "competition"
    assert notice.language == "SWE"
    assert notice.buyer_name == "Luleå kommun"
    assert notice.buyer_org_number == "212000-2627"
    assert notice.link == "https://ted.europa.eu/en/notice/-/detail/700001-2026"
    assert notice.procedure_id == "b0f6c1d2-1111-4a2b-9c3d-000000000001"
    (lot,) = notice.lots
    assert lot.lot_id == "LOT-0001"
    assert lot.title == "Lokalvård förskolor"
    assert lot.cpv_codes == ("90910000", "90919200")
    assert lot.value == Decimal("800000")
    assert lot.currency == "SEK"
    assert lot.closes_at == datetime.fromisoformat("2027-03-01T23:59:00+01:00")
    assert lot.reserved_participation == ("res-ws",)
    assert is_reserved(lot)


def test_a_two_lot_notice_gives_one_need_per_lot_one_of_them_for_the_whole_lan() -> None:
    candidates, skips = screen(_fixture("se_cn_two_lots_norrbotten.xml"), "x.xml", NOW)
    assert skips == []
    boden, county = candidates
    assert (boden.fields["kommun"], boden.fields["whole_lan"]) == ("2582", False)
    assert boden.place.via == "town"
    assert (county.fields["kommun"], county.fields["whole_lan"]) == ("2500", True)
    assert all(c.fields["social_objective"] for c in candidates)
    assert not any(c.fields["reserved"] for c in candidates)
    # Only SEK becomes the SEK estimate; the euro value is kept as given.
    assert boden.fields["estimated_value_sek"] == 1_200_000
    assert county.fields["estimated_value_sek"] is None
    assert (county.fields["notice_value"], county.fields["notice_currency"]) == (
        Decimal("90000"),
        "EUR",
    )


def test_a_prior_information_notice_becomes_a_need_without_a_deadline() -> None:
    (candidate,), _ = screen(_fixture("se_pin_dalarna.xml"), "pin.xml", NOW)
    assert candidate.notice.form == "planning"
    assert candidate.lot.lot_id == "PAR-0000"
    assert candidate.fields["kommun"] == "2081"
    assert candidate.fields["closes_at"] is None


def test_a_change_and_a_cancellation_point_at_the_same_procedure() -> None:
    first = _fixture("se_cn_reserved_lulea.xml")
    change = _fixture("se_cn_change_lulea.xml")
    cancel = _fixture("se_cn_cancel_lulea.xml")
    assert first.procedure_id == change.procedure_id == cancel.procedure_id
    assert change.changes_notice == f"{first.notice_id}-01"
    assert not change.cancelled
    assert cancel.cancelled


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("se_cn_expired.xml", "deadline passed"),
        ("se_cn_no_text.xml", "no text and no CPV code"),
    ],
)
def test_swedish_notices_that_cannot_be_needs_are_skipped_with_reason_and_xpath(
    name: str, reason: str
) -> None:
    candidates, (skip,) = screen(_fixture(name), name, NOW)
    assert candidates == []
    assert skip.reason.startswith(reason)
    assert skip.where.startswith("/*/")
    assert skip.file == name
    assert skip.lot_id == "LOT-0001"


def test_every_sdk_example_is_read_and_none_is_imported_as_a_swedish_need() -> None:
    examples = sorted(SDK_EXAMPLES.glob("*.xml"))
    assert len(examples) == 9
    reasons = {}
    for path in examples:
        notice = parse_eforms(path.read_bytes())
        candidates, skips = screen(notice, path.name, NOW)
        assert candidates == []
        reasons[path.name] = [skip.reason for skip in skips]
    assert reasons["can_24_maximal.xml"][0].startswith("award notice")
    assert reasons["cn_24_minimal.xml"] == ["not Swedish: buyer in LUX, place of performance FRD22"]
    assert reasons["pin-only_24.xml"][0].startswith("not Swedish")


def test_the_multilingual_example_is_read_in_swedish() -> None:
    notice = parse_eforms((SDK_EXAMPLES / "cn_24_multilingual.xml").read_bytes())
    assert notice.language == "SWE"
    assert notice.lots[0].title.startswith("Tillhandahållande av IT-tjänster")


def test_the_sdk_void_change_notice_is_a_cancellation() -> None:
    notice = parse_eforms((SDK_EXAMPLES / "change-cn_24_void.xml").read_bytes())
    assert notice.cancelled
    assert notice.changes_notice == "f42be27e-09cf-4f0e-a745-63ec689631e6-01"


@pytest.mark.parametrize(
    ("raw", "xpath"),
    [
        (b"<ContractNotice><unclosed></ContractNotice>", "/"),
        (b"<html><body>not a notice</body></html>", "/*/cbc:UBLVersionID"),
        (
            (FIXTURES / "se_cn_reserved_lulea.xml")
            .read_bytes()
            .replace(b'schemeName="notice-id"', b'schemeName="other"'),
            "/*/cbc:ID[@schemeName='notice-id']",
        ),
    ],
)
def test_broken_xml_is_an_error_naming_where_it_fell_short(raw: bytes, xpath: str) -> None:
    with pytest.raises(NoticeParseError) as caught:
        parse_eforms(raw)
    assert caught.value.xpath == xpath


def test_an_entity_expansion_attack_is_not_expanded() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><x>&b;</x>'
    )
    with pytest.raises(NoticeParseError):
        parse_eforms(bomb)


def test_deadlines_keep_their_offset_and_a_date_alone_means_the_end_of_that_day() -> None:
    assert parse_deadline("2027-03-01+01:00", "10:00:00+01:00") == datetime.fromisoformat(
        "2027-03-01T10:00:00+01:00"
    )
    assert parse_deadline("2027-03-01Z", None) == datetime(2027, 3, 1, 23, 59, 59, tzinfo=UTC)


def test_ocds_releases_become_notices_with_lots_reservation_and_buyer_number() -> None:
    items = parse_ocds((FIXTURES / "ocds_orebro_releases.json").read_bytes())
    bikes, coffee, awarded, broken = items
    assert isinstance(bikes, Notice) and isinstance(coffee, Notice)
    assert bikes.buyer_org_number == "212000-1884"
    assert bikes.link == "https://example.invalid/upphandling/ks-2026-0017"
    (lot,) = bikes.lots
    assert lot.reserved_participation == ("shelteredWorkshop",)
    assert is_reserved(lot)
    assert lot.cpv_codes == ("50000000", "34430000")
    assert [lot.lot_id for lot in coffee.lots] == ["1", "2"]
    candidates, _ = screen(coffee, "o.json", NOW)
    assert [(c.fields["kommun"], c.fields["whole_lan"]) for c in candidates] == [
        ("1880", False),
        ("1800", True),
    ]
    assert isinstance(awarded, Notice) and awarded.form == "award"
    assert isinstance(broken, OcdsError) and broken.path == "$.releases[3].ocid"


@pytest.mark.parametrize(
    "raw", [b"{not json", b'{"releases": 5}', b"[1, 2]", b'"a string"', b'{"x": 1}']
)
def test_json_that_is_not_ocds_is_an_error_or_a_skipped_release(raw: bytes) -> None:
    try:
        parsed = parse_ocds(raw)
    except OcdsError as error:
        assert str(error)
    else:
        assert parsed and all(isinstance(item, OcdsError) for item in parsed)


def test_a_record_package_gives_each_records_current_state() -> None:
    raw = (Path(__file__).parent / "records" / "ocds_orebro_records.json").read_bytes()
    bikes, parking, linked = parse_ocds(raw)
    assert isinstance(bikes, Notice) and isinstance(parking, Notice)
    # The compiled release carries the amendment: the newer value, versioned by the newest
    # release it was compiled from.
    assert bikes.procedure_id == "ocds-test-orebro-2026-0017"
    assert bikes.version == "ocds-test-orebro-2026-0017-tender-2"
    assert bikes.form == "competition"
    (lot,) = bikes.lots
    assert lot.value == 420000 and is_reserved(lot)
    # Without a compiled release, the newest release embedded in full.
    assert parking.notice_id == "ocds-test-orebro-2026-0031-tender-1"
    assert parking.lots[0].cpv_codes == ("77314000",)
    assert isinstance(linked, OcdsError) and linked.path == "$.records[2].releases"
    assert "URL" in str(linked)


@pytest.mark.parametrize("raw", [b'{"records": 5}', b'{"records": [1]}', b'{"records": [{}]}'])
def test_a_malformed_record_package_is_an_error_with_its_path(raw: bytes) -> None:
    try:
        parsed = parse_ocds(raw)
    except OcdsError as error:
        assert error.path == "$.records"
    else:
        (only,) = parsed
        assert isinstance(only, OcdsError) and only.path.startswith("$.records[0]")
