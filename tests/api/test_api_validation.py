"""Every validation rule answers 4xx with a problem document naming the field; no input is a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from api_testkit import (
    API,
    World,
    assert_problem,
    error_fields,
    need_body,
    new_org_number,
    supplier_body,
    with_wrong_check_digit,
)

# --- needs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kommun": "9999"}, "kommun"),  # well formed, but no such kommun
        ({"kommun": "25800"}, "kommun"),
        ({"kommun": "25"}, "kommun"),
        ({"kommun": 2580}, "kommun"),
        ({"cpv_codes": ["99999999"]}, "cpv_codes[0]"),  # unknown code
        ({"cpv_codes": ["55520000", "5552000A"]}, "cpv_codes[1]"),  # malformed
        ({"cpv_codes": ["55520000", "55524000", "5552"]}, "cpv_codes[2]"),  # too short
        ({"cpv_codes": ["55520000-12"]}, "cpv_codes[0]"),
        ({"cpv_codes": "55520000"}, "cpv_codes"),
        ({"cpv_codes": ["55520000"] * 31}, "cpv_codes"),  # list too long
        ({"title": "x" * 201}, "title"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": None}, "title"),
        ({"description": "x" * 10_001}, "description"),
        ({"estimated_value_sek": -1}, "estimated_value_sek"),
        ({"estimated_value_sek": 1.5}, "estimated_value_sek"),
        ({"estimated_value_sek": [400_000]}, "estimated_value_sek"),
        ({"estimated_value_sek": 10**13}, "estimated_value_sek"),
        ({"training_places": -3}, "training_places"),
        ({"reserved": "yes"}, "reserved"),
        ({"reserved": None}, "reserved"),
        ({"closes_at": "2020-01-01T12:00:00+01:00"}, "closes_at"),  # in the past
        ({"closes_at": "2099-01-01T12:00:00"}, "closes_at"),  # no time zone
        ({"closes_at": "next friday"}, "closes_at"),
        ({"status": "closed"}, "status"),
        ({"buyer_id": "me"}, "buyer_id"),
        ({"colour": "blue"}, "colour"),  # unknown field
    ],
    ids=lambda value: repr(value)[:40] if isinstance(value, dict) else value,
)
async def test_need_rule_is_enforced(client, world: World, db, overrides, field):
    response = await client.post(
        f"{API}/needs", json=need_body(**overrides), headers=world.buyer.headers
    )
    assert_problem(response, 422, field)
    assert await db.fetchval("SELECT count(*) FROM needs") == 2  # only the world's


async def test_missing_required_fields_are_named(client, world: World, admin):
    body = need_body()
    del body["kommun"]
    response = await client.post(f"{API}/needs", json=body, headers=world.buyer.headers)
    assert_problem(response, 422, "kommun")
    response = await client.post(
        f"{API}/organisations",
        json={"kind": "buyer", "org_number": new_org_number()},
        headers=admin,
    )
    assert_problem(response, 422, "name")


async def test_missing_required_field_is_a_422_problem(client, world: World):
    body = need_body()
    del body["title"]
    response = await client.post(f"{API}/needs", json=body, headers=world.buyer.headers)
    problem = assert_problem(response, 422, "title")
    assert problem["errors"][0]["reason"] == "required field is missing"


async def test_missing_required_query_parameter_is_named(client):
    assert_problem(await client.get(f"{API}/cpv"), 422, "q")


async def test_unknown_field_is_named_with_reason(client, world: World):
    response = await client.post(
        f"{API}/needs", json=need_body(priority=1), headers=world.buyer.headers
    )
    body = assert_problem(response, 422, "priority")
    assert "priority" in body["detail"]
    assert body["errors"][0]["reason"] == "unknown field"


async def test_every_reference_error_is_reported_at_once(client, world: World):
    response = await client.post(
        f"{API}/needs",
        json=need_body(kommun="9999", cpv_codes=["55520000", "99999999", "x2345678"]),
        headers=world.buyer.headers,
    )
    assert_problem(response, 422, "kommun", "cpv_codes[1]", "cpv_codes[2]")
    assert "cpv_codes[0]" not in error_fields(response)


async def test_cpv_codes_are_accepted_with_and_without_check_digit_and_stored_as_8_digits(
    client, world: World
):
    response = await client.post(
        f"{API}/needs",
        json=need_body(cpv_codes=["55520000-1", "55524000", "90910000-9", "55520000"]),
        headers=world.buyer.headers,
    )
    assert response.status_code == 201, response.text
    # Normalised to 8 digits and deduplicated, order kept.
    assert response.json()["cpv_codes"] == ["55520000", "55524000", "90910000"]


async def test_closes_at_with_a_time_zone_in_the_future_is_stored_in_utc(client, world: World):
    moment = (datetime.now().astimezone() + timedelta(days=3)).replace(microsecond=0)
    response = await client.post(
        f"{API}/needs",
        json=need_body(closes_at=moment.isoformat()),
        headers=world.buyer.headers,
    )
    assert response.status_code == 201, response.text
    assert datetime.fromisoformat(response.json()["closes_at"]) == moment


async def test_patch_applies_the_same_rules(client, world: World):
    url = f"{API}/needs/{world.need_id}"
    headers = world.buyer.headers
    cases: list[tuple[dict[str, Any], str]] = [
        ({"kommun": "0000"}, "kommun"),
        ({"cpv_codes": ["12345678"]}, "cpv_codes[0]"),
        ({"title": " "}, "title"),
        ({"title": "t" * 201}, "title"),
        ({"closes_at": "2001-01-01T00:00:00Z"}, "closes_at"),
        ({"closes_at": "2099-01-01T00:00:00"}, "closes_at"),
        ({"training_places": -1}, "training_places"),
        ({"buyer_id": world.other_buyer.org_id}, "buyer_id"),  # a need cannot change hands
        ({"id": 5}, "id"),
    ]
    for body, field in cases:
        assert_problem(await client.patch(url, json=body, headers=headers), 422, field)
    assert (await client.get(url)).json()["title"] == "Skollunch till tre förskolor"


async def test_admin_posting_a_need_must_name_the_buyer(client, world: World):
    response = await client.post(f"{API}/needs", json=need_body(), headers=world.admin.headers)
    assert_problem(response, 422, "buyer_id")


# --- suppliers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"service_area": ["99"]}, "service_area[0]"),  # unknown län
        ({"service_area": ["25", "9999"]}, "service_area[1]"),  # unknown kommun
        ({"service_area": ["EU"]}, "service_area[0]"),
        ({"service_area": ["S"]}, "service_area[0]"),
        ({"service_area": []}, "service_area"),
        ({"service_area": ["SE"] * 301}, "service_area"),  # list too long
        ({"home_kommun": "9999"}, "home_kommun"),
        ({"cpv_codes": ["00000000"]}, "cpv_codes[0]"),
        ({"cpv_codes": ["55520000", "ABCDEFGH"]}, "cpv_codes[1]"),
        ({"target_group_share": 1.01}, "target_group_share"),
        ({"target_group_share": -0.1}, "target_group_share"),
        ({"target_group_share": None}, "target_group_share"),
        ({"employees": -1}, "employees"),
        ({"employees": 100_001}, "employees"),
        ({"max_contract_value_sek": -100}, "max_contract_value_sek"),
        ({"training_places": -1}, "training_places"),
        ({"legal_form": "enskild_firma"}, "legal_form"),
        ({"contact_email": "not-an-address"}, "contact_email"),
        ({"contact_email": "a@b.se" + "e" * 260}, "contact_email"),
        ({"name": "n" * 201}, "name"),
        ({"name": ""}, "name"),
        ({"description": "d" * 5001}, "description"),
        ({"work_integration_aim": {"yes": True}}, "work_integration_aim"),
        ({"org_number": "556677-889"}, "org_number"),
        ({"org_number": "55667788990"}, "org_number"),
        ({"org_number": "abcdef-ghij"}, "org_number"),
        ({"website": "https://example.se"}, "website"),
    ],
    ids=lambda value: repr(value)[:40] if isinstance(value, dict) else value,
)
async def test_supplier_rule_is_enforced(client, admin, db, overrides, field):
    body = {**supplier_body(new_org_number()), **overrides}
    response = await client.post(f"{API}/suppliers", json=body, headers=admin)
    assert_problem(response, 422, field)
    assert await db.fetchval("SELECT count(*) FROM organisations WHERE kind = 'supplier'") == 0
    assert await db.fetchval("SELECT count(*) FROM supplier_profiles") == 0


async def test_org_number_with_wrong_luhn_digit_is_rejected(client, admin):
    number = with_wrong_check_digit(new_org_number())
    response = await client.post(f"{API}/suppliers", json=supplier_body(number), headers=admin)
    body = assert_problem(response, 422, "org_number")
    assert "check digit" in body["errors"][0]["reason"]
    response = await client.post(
        f"{API}/organisations",
        json={"kind": "buyer", "name": "Kommun", "org_number": number},
        headers=admin,
    )
    assert_problem(response, 422, "org_number")


@pytest.mark.parametrize("area", [["SE"], ["se"], ["25"], ["2580"], ["01", "2081", "SE"]])
async def test_service_area_accepts_kommun_lan_and_se(client, admin, area):
    response = await client.post(
        f"{API}/suppliers", json=supplier_body(new_org_number(), service_area=area), headers=admin
    )
    assert response.status_code == 201, response.text
    assert response.json()["service_area"] == [code.upper() for code in area]


async def test_service_area_duplicates_collapse(client, admin):
    response = await client.post(
        f"{API}/suppliers",
        json=supplier_body(new_org_number(), service_area=["25", "25", "SE", "se"]),
        headers=admin,
    )
    assert response.status_code == 201
    assert response.json()["service_area"] == ["25", "SE"]


async def test_supplier_patch_applies_the_same_rules(client, world: World):
    url = f"{API}/suppliers/{world.profile_id}"
    for body, field in [
        ({"service_area": ["77"]}, "service_area[0]"),
        ({"service_area": []}, "service_area"),
        ({"target_group_share": 2}, "target_group_share"),
        ({"cpv_codes": ["1"]}, "cpv_codes[0]"),
        ({"home_kommun": "0000"}, "home_kommun"),
        ({"contact_email": "nope"}, "contact_email"),
        ({"org_number": world.other_supplier.org_number}, "org_number"),  # not changeable here
        ({"employees": -5}, "employees"),
    ]:
        response = await client.patch(url, json=body, headers=world.supplier.headers)
        assert_problem(response, 422, field)
    assert (await client.get(url)).json()["service_area"] == ["25"]


async def test_supplier_patch_rejects_a_too_long_service_area(client, world: World):
    response = await client.patch(
        f"{API}/suppliers/{world.profile_id}",
        json={"service_area": ["SE"] * 301},
        headers=world.supplier.headers,
    )
    assert_problem(response, 422, "service_area")


# --- organisations and keys ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "municipality", "name": "A"}, "kind"),
        ({"kind": "buyer", "name": "n" * 201}, "name"),
        ({"kind": "buyer", "name": "A", "contact_email": "x"}, "contact_email"),
        ({"kind": "buyer", "name": "A", "role": "admin"}, "role"),
        ({"kind": "buyer", "name": 7}, "name"),
        ({"kind": ["buyer"], "name": "A"}, "kind"),
    ],
)
async def test_organisation_rule_is_enforced(client, admin, body, field):
    response = await client.post(
        f"{API}/organisations", json={"org_number": new_org_number(), **body}, headers=admin
    )
    assert_problem(response, 422, field)


async def test_key_label_longer_than_100_is_rejected(client, world: World):
    response = await client.post(
        f"{API}/organisations/{world.buyer.org_id}/keys",
        json={"label": "l" * 101},
        headers=world.buyer.headers,
    )
    assert_problem(response, 422, "label")


# --- query parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/needs?page_size=101", "page_size"),
        ("/needs?page_size=0", "page_size"),
        ("/needs?page=0", "page"),
        ("/needs?page=two", "page"),
        ("/needs?lan=99", "lan"),
        ("/needs?lan=SE", "lan"),
        ("/needs?kommun=9999", "kommun"),
        ("/needs?cpv=5", "cpv"),
        ("/needs?cpv=555200001", "cpv"),
        ("/needs?cpv=catering", "cpv"),
        ("/needs?status=lost", "status"),
        ("/needs?reserved=maybe", "reserved"),
        ("/needs?buyer_id=x", "buyer_id"),
        ("/suppliers?page_size=1000", "page_size"),
        ("/suppliers?kommun=25", "kommun"),
        ("/suppliers?lan=250", "lan"),
        ("/suppliers?cpv=x", "cpv"),
        ("/suppliers?active=sometimes", "active"),
        ("/organisations?page_size=101", "page_size"),
        ("/organisations?kind=robot", "kind"),
        ("/cpv?q=", "q"),
        ("/cpv?q=" + "a" * 101, "q"),
        ("/cpv?q=55&limit=101", "limit"),
    ],
)
async def test_bad_query_parameter_is_named(client, admin, url, field):
    response = await client.get(API + url, headers=admin)
    assert_problem(response, 422, field)


async def test_page_beyond_the_end_is_empty_with_the_right_total(client, world: World):
    for url, total in [("/needs", 1), ("/suppliers", 2)]:
        response = await client.get(f"{API}{url}?page=50&page_size=10")
        assert response.status_code == 200
        page = response.json()
        assert page["items"] == []
        assert page["total"] == total
        assert page["page"] == 50 and page["page_size"] == 10


# --- malformed requests -------------------------------------------------------------------------


async def test_malformed_json_is_400(client, world: World):
    for raw in (b'{"title": "x", ', b"{'title': 'x'}", b"\xff\xfe", b'{"title": "x"} trailing'):
        response = await client.post(
            f"{API}/needs",
            content=raw,
            headers={**world.buyer.headers, "content-type": "application/json"},
        )
        assert_problem(response, 400)


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""],
)
async def test_non_json_body_is_415(client, world: World, db, content_type):
    response = await client.post(
        f"{API}/needs",
        content=b'{"title": "x", "kommun": "2580"}',
        headers={**world.buyer.headers, "content-type": content_type},
    )
    assert_problem(response, 415)
    assert await db.fetchval("SELECT count(*) FROM needs") == 2


async def test_json_with_charset_or_a_json_suffix_type_is_accepted(client, world: World):
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        response = await client.patch(
            f"{API}/needs/{world.need_id}",
            content=b'{"training_places": 3}',
            headers={**world.buyer.headers, "content-type": content_type},
        )
        assert response.status_code == 200, (content_type, response.text)


async def test_body_over_one_megabyte_is_413(client, world: World, db):
    body = need_body(description="x" * 9_000)
    raw = b'{"padding": "' + b"x" * 1_000_001 + b'"}'
    response = await client.post(
        f"{API}/needs",
        content=raw,
        headers={**world.buyer.headers, "content-type": "application/json"},
    )
    assert_problem(response, 413)
    assert await db.fetchval("SELECT count(*) FROM needs") == 2
    # Just under the limit it is parsed (and here rejected on its merits, not its size).
    near = await client.post(
        f"{API}/needs",
        json={**body, "title": "t" * 201, "description": "d" * 10_000},
        headers=world.buyer.headers,
    )
    assert_problem(near, 422, "title")


class _ChunkedBody(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body without Content-Length; the test transport reads it synchronously."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk


async def test_chunked_body_over_one_megabyte_is_413(client, world: World, db):
    request = httpx.Request(
        "POST",
        f"http://testserver.local{API}/needs",
        headers={
            **world.buyer.headers,
            "content-type": "application/json",
            "transfer-encoding": "chunked",
        },
        stream=_ChunkedBody([b'{"title": "' + b"x" * 100_000] * 12 + [b'"}']),
    )
    assert "content-length" not in request.headers
    response = await client.send(request)
    assert_problem(response, 413)
    assert await db.fetchval("SELECT count(*) FROM needs") == 2


async def test_empty_body_where_one_is_required_is_a_client_error(client, world: World):
    for raw in (b"", b"null", b"[]", b'"need"', b"42"):
        response = await client.post(
            f"{API}/needs",
            content=raw,
            headers={**world.buyer.headers, "content-type": "application/json"},
        )
        assert response.status_code in {400, 422}, (raw, response.status_code)
        assert_problem(response, response.status_code)


# --- unknown ids --------------------------------------------------------------------------------


async def test_unknown_ids_are_404(client, world: World):
    admin = world.admin.headers
    buyer = world.buyer.headers
    missing = 987_654
    cases = [
        ("GET", f"/needs/{missing}", None, None),
        ("PATCH", f"/needs/{missing}", buyer, {"title": "x"}),
        ("POST", f"/needs/{missing}/close", buyer, None),
        ("POST", f"/needs/{missing}/withdraw", admin, None),
        ("GET", f"/suppliers/{missing}", None, None),
        ("PATCH", f"/suppliers/{missing}", admin, {"employees": 1}),
        ("GET", f"/organisations/{missing}", admin, None),
        ("GET", f"/organisations/{missing}/keys", admin, None),
        ("POST", f"/organisations/{missing}/keys", admin, None),
        ("DELETE", f"/organisations/{world.buyer.org_id}/keys/{missing}", buyer, None),
        ("GET", "/regions/99", None, None),
        ("GET", "/no-such-thing", None, None),
    ]
    for method, url, headers, body in cases:
        response = await client.request(method, API + url, headers=headers or {}, json=body)
        assert_problem(response, 404)


async def test_wrong_method_is_405_problem(client, world: World):
    response = await client.delete(f"{API}/needs/{world.need_id}", headers=world.admin.headers)
    assert_problem(response, 405)


# --- nothing a client sends is a 500 ------------------------------------------------------------

ODD_BODIES: list[Any] = [
    None,
    {},
    [],
    [{}],
    "",
    "text",
    0,
    -1,
    1.5e308,
    True,
    {"title": None, "kommun": None},
    {"title": {"nested": [1, {"deeper": [None, []]}]}, "kommun": [[["2580"]]]},
    {"title": [], "kommun": {}, "cpv_codes": {"0": "55520000"}},
    {"title": "x", "kommun": "2580", "cpv_codes": [None, 5, [], {}]},
    {"title": "x", "kommun": "2580", "estimated_value_sek": 10**40},
    {"title": "x", "kommun": "2580", "estimated_value_sek": -(10**40)},
    {"title": "x", "kommun": "2580", "training_places": 2**63},
    {"title": "x", "kommun": "2580", "estimated_value_sek": -1e308},
    {"title": "Städning 🧹 في ‮ 汉字 \u200b", "kommun": "2580", "description": "ø" * 9_999},
    {"title": "", "kommun": "", "description": "", "cpv_codes": [""], "status": ""},
    {"title": "x", "kommun": "２５８０"},  # full-width digits
    {"title": "x", "kommun": "2580", "cpv_codes": ["５５５２００００"]},
    {"title": "x", "kommun": "2580", "closes_at": "0001-01-01T00:00:00Z"},
    {"title": "x", "kommun": "2580", "closes_at": ""},
    {"title": "x", "kommun": "2580", "closes_at": 1_700_000_000},
    {"name": "", "org_number": "", "legal_form": "", "description": "", "service_area": [""]},
    {"name": "x", "org_number": "000000-0000", "service_area": ["SE"], "employees": 10**30},
    {"name": "x", "org_number": "１２３４５６-７８９０", "kind": "buyer"},
    {"service_area": [None], "cpv_codes": [10**20], "target_group_share": 1e308},
    {"service_area": "SE", "target_group_share": [0.5], "employees": {"n": 1}},
    {"kind": "admin", "name": "x", "org_number": new_org_number(), "contact_email": ""},
    {"label": None},
    {"label": ["a"]},
    {"status": "open", "reserved": None, "buyer_id": None},
    {"buyer_id": -1, "title": "x", "kommun": "2580"},
    {"buyer_id": 2**62, "title": "x", "kommun": "2580"},
    {"active": None, "employees": None, "contact_email": None, "home_kommun": None},
    {"a" * 1000: "b" * 1000},
]


def _fuzz_targets(world: World) -> list[tuple[str, str, dict[str, str]]]:
    admin = world.admin.headers
    return [
        ("POST", "/needs", admin),
        ("POST", "/needs", world.buyer.headers),
        ("PATCH", f"/needs/{world.need_id}", world.buyer.headers),
        ("PATCH", f"/needs/{world.draft_id}", admin),
        ("POST", f"/needs/{world.need_id}/close", world.other_buyer.headers),
        ("POST", "/suppliers", admin),
        ("POST", "/suppliers", world.supplier.headers),
        ("PATCH", f"/suppliers/{world.profile_id}", world.supplier.headers),
        ("PATCH", f"/suppliers/{world.other_profile_id}", admin),
        ("POST", "/organisations", admin),
        ("POST", f"/organisations/{world.buyer.org_id}/keys", world.buyer.headers),
    ]


async def test_no_odd_body_causes_a_server_error(app_client, world: World):
    failures = []
    # Hundreds of requests: lift the rate limits so every one reaches its handler.
    async with app_client(
        rate_limit_per_address=10**6, rate_limit_per_organisation=10**6
    ) as client:
        for method, url, headers in _fuzz_targets(world):
            for body in ODD_BODIES:
                response = await client.request(method, API + url, json=body, headers=headers)
                if response.status_code >= 500 or response.status_code == 429:
                    failures.append((method, url, repr(body)[:80], response.status_code))
                elif response.status_code >= 400:
                    assert_problem(response, response.status_code)
    assert not failures, failures


ODD_QUERIES = [
    "/needs?lan=&kommun=&cpv=",
    "/needs?q=" + "%25" * 300,
    "/needs?q=%5C",
    "/needs?q=_%25_%5C%5C",
    "/needs?q=%F0%9F%98%80",
    "/needs?cpv=%C2%B2%C2%B2",
    "/needs?page=1000000&page_size=100",
    "/needs?buyer_id=-1",
    "/needs?status=draft&buyer_id=1",
    "/needs?kommun=2580&kommun=0180",
    "/suppliers?q=%27%3B%20DROP%20TABLE%20needs%3B--",
    "/suppliers?kommun=%00%00%00%00",
    "/suppliers?lan=%E2%80%AE",
    "/suppliers?cpv=55520000-1",
    "/cpv?q=%00",
    "/cpv?q=---",
    "/cpv?q=%E2%80%8B",
    "/regions/%00",
    "/regions/..",
    "/needs/0",
    "/needs/-1",
    "/suppliers/00000001",
]


async def test_no_odd_query_causes_a_server_error(client, world: World):
    failures = []
    for url in ODD_QUERIES:
        for headers in ({}, world.admin.headers):
            response = await client.get(API + url, headers=headers)
            if response.status_code >= 500 or response.status_code == 429:
                failures.append((url, response.status_code))
            elif response.status_code >= 400:
                assert_problem(response, response.status_code)
    assert not failures, failures


async def test_odd_authorization_headers_are_401_not_500(client):
    for value in (
        "Bearer",
        "Bearer ",
        "Bearer    ",
        "Basic dXNlcjpwYXNz",
        "Token asfm_x",
        "asfm_abc",
        "Bearer asfm_00000000_" + "A" * 43,
        "Bearer " + "x" * 10_000,
        "Bearer a b c",
        "bearer%20x",
    ):
        response = await client.get(f"{API}/me", headers={"Authorization": value})
        assert_problem(response, 401)


# --- known server errors (bugs) -----------------------------------------------------------------


async def test_ids_beyond_64_bits_are_client_errors(client, world: World):
    admin = world.admin.headers
    huge = "99999999999999999999"
    cases = [
        ("GET", f"/needs/{huge}", None),
        ("GET", f"/suppliers/{huge}", None),
        ("GET", f"/needs?buyer_id={huge}", None),
        ("GET", f"/organisations/{huge}", None),
        ("DELETE", f"/organisations/{world.admin.org_id}/keys/{huge}", None),
        ("POST", "/needs", need_body(buyer_id=2**64 - 1)),
        ("GET", f"/needs/{huge}/matches", None),
        ("GET", f"/suppliers/{huge}/matches", None),
        ("GET", f"/needs/{huge}/interest", None),
        ("GET", f"/suppliers/{huge}/notifications", None),
        ("GET", f"/suppliers/{huge}/notification-preferences", None),
        ("GET", f"/suppliers/{huge}/webhooks", None),
        ("GET", f"/suppliers/{world.profile_id}/webhooks/{huge}", None),
    ]
    statuses = []
    for method, url, body in cases:
        response = await client.request(method, API + url, json=body, headers=admin)
        statuses.append((url, response.status_code))
    assert all(status < 500 for _, status in statuses), statuses


async def test_nul_characters_are_client_errors(client, world: World):
    results = [
        await client.post(
            f"{API}/needs", json=need_body(title="Lunch\u0000"), headers=world.buyer.headers
        ),
        await client.patch(
            f"{API}/suppliers/{world.profile_id}",
            json={"description": "a\u0000b"},
            headers=world.supplier.headers,
        ),
        await client.get(f"{API}/needs?q=%00"),
        await client.get(f"{API}/suppliers?q=a%00"),
    ]
    assert all(response.status_code < 500 for response in results), [
        response.status_code for response in results
    ]
    assert_problem(results[0], 422, "title")


async def test_blank_names_are_rejected_with_422(client, world: World, admin):
    results = [
        await client.post(
            f"{API}/organisations",
            json={"kind": "buyer", "name": "   ", "org_number": new_org_number()},
            headers=admin,
        ),
        await client.post(
            f"{API}/suppliers", json=supplier_body(new_org_number(), name="  "), headers=admin
        ),
        await client.patch(
            f"{API}/suppliers/{world.profile_id}",
            json={"name": " "},
            headers=world.supplier.headers,
        ),
    ]
    for response in results:
        assert_problem(response, 422, "name")


async def test_org_number_in_non_ascii_digits_is_rejected(client, admin):
    # Arabic-Indic digits for 556677-8899, which has a valid check digit.
    response = await client.post(
        f"{API}/organisations",
        json={"kind": "buyer", "name": "Kommun", "org_number": "٥٥٦٦٧٧-٨٨٩٩"},
        headers=admin,
    )
    assert_problem(response, 422, "org_number")


async def test_closes_at_beyond_year_9999_utc_is_rejected(client, world: World):
    response = await client.post(
        f"{API}/needs",
        json=need_body(closes_at="9999-12-31T23:59:59-23:59"),
        headers=world.buyer.headers,
    )
    assert_problem(response, 422, "closes_at")


async def test_deeply_nested_json_is_a_client_error(client, world: World):
    response = await client.post(
        f"{API}/needs",
        content=b"[" * 5_000 + b"]" * 5_000,
        headers={**world.buyer.headers, "content-type": "application/json"},
    )
    assert 400 <= response.status_code < 500, response.status_code
