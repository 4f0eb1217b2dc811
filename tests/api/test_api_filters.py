"""Listing filters and pagination of needs and suppliers."""

from __future__ import annotations

from typing import Any

import pytest
from api_testkit import API, need_body, new_org_number, supplier_body


@pytest.fixture
async def needs(client, keys) -> dict[str, Any]:
    """Needs across län, CPV codes, statuses and reservation; name -> id, plus headers."""
    _, buyer = await keys.make("buyer", "Luleå kommun")
    _, other = await keys.make("buyer", "Stockholms stad")
    specs: dict[str, tuple[dict[str, str], dict[str, Any]]] = {
        "catering_lulea": (buyer, {"kommun": "2580", "cpv_codes": ["55520000"]}),
        "school_lulea": (buyer, {"kommun": "2580", "cpv_codes": ["55524000"], "reserved": True}),
        "cleaning_boden": (buyer, {"kommun": "2582", "cpv_codes": ["90910000"]}),
        "catering_sthlm": (other, {"kommun": "0180", "cpv_codes": ["55521200", "90910000"]}),
        "cleaning_sthlm": (other, {"kommun": "0180", "cpv_codes": ["90911200"], "reserved": True}),
        "moving_borlange": (other, {"kommun": "2081", "cpv_codes": []}),
        "closed_lulea": (buyer, {"kommun": "2580", "cpv_codes": ["55520000"]}),
        "draft_lulea": (buyer, {"kommun": "2580", "cpv_codes": ["55520000"], "status": "draft"}),
    }
    ids: dict[str, Any] = {}
    for name, (headers, overrides) in specs.items():
        response = await client.post(
            f"{API}/needs", json=need_body(title=name, **overrides), headers=headers
        )
        assert response.status_code == 201, response.text
        ids[name] = response.json()["id"]
    closed = await client.post(f"{API}/needs/{ids['closed_lulea']}/close", headers=buyer)
    assert closed.status_code == 200
    ids["_buyer"] = buyer
    return ids


async def _need_titles(client, query: str, headers: dict[str, str] | None = None) -> set[str]:
    response = await client.get(f"{API}/needs?{query}&page_size=100", headers=headers or {})
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == len(page["items"])
    return {item["title"] for item in page["items"]}


NEED_FILTERS = [
    ("lan=25", {"catering_lulea", "school_lulea", "cleaning_boden", "closed_lulea"}),
    ("lan=01", {"catering_sthlm", "cleaning_sthlm"}),
    ("lan=03", set()),
    ("kommun=2580", {"catering_lulea", "school_lulea", "closed_lulea"}),
    ("kommun=2081", {"moving_borlange"}),
    ("cpv=5552", {"catering_lulea", "school_lulea", "catering_sthlm", "closed_lulea"}),
    ("cpv=55520000", {"catering_lulea", "school_lulea", "catering_sthlm", "closed_lulea"}),
    ("cpv=55520000-1", {"catering_lulea", "school_lulea", "catering_sthlm", "closed_lulea"}),
    ("cpv=55524000", {"school_lulea"}),
    ("cpv=909", {"cleaning_boden", "catering_sthlm", "cleaning_sthlm"}),
    ("cpv=90911200", {"cleaning_sthlm"}),
    ("cpv=45", set()),
    ("status=closed", {"closed_lulea"}),
    ("status=open&lan=25", {"catering_lulea", "school_lulea", "cleaning_boden"}),
    ("reserved=true", {"school_lulea", "cleaning_sthlm"}),
    ("reserved=false&lan=01", {"catering_sthlm"}),
    ("lan=25&cpv=5552&reserved=false", {"catering_lulea", "closed_lulea"}),
    ("q=sthlm", {"catering_sthlm", "cleaning_sthlm"}),
    ("q=CLEANING", {"cleaning_boden", "cleaning_sthlm"}),
    ("q=%25", set()),  # a literal percent sign, not a wildcard
]


async def test_need_filters(client, needs):
    mismatches = []
    for query, expected in NEED_FILTERS:
        found = await _need_titles(client, query)
        if found != expected:
            mismatches.append((query, sorted(found), sorted(expected)))
    assert not mismatches, mismatches


async def test_underscore_in_q_is_taken_literally(client, keys):
    _, buyer = await keys.make("buyer")
    for title in ("Avtal X_Y", "Avtal XZY"):
        await client.post(f"{API}/needs", json=need_body(title=title), headers=buyer)
    assert await _need_titles(client, "q=X_Y") == {"Avtal X_Y"}


async def test_need_filter_by_buyer(client, needs, db):
    buyer_id = await db.fetchval("SELECT id FROM organisations WHERE name = 'Stockholms stad'")
    found = await _need_titles(client, f"buyer_id={buyer_id}")
    assert found == {"catering_sthlm", "cleaning_sthlm", "moving_borlange"}


async def test_need_filters_include_the_owners_drafts(client, needs):
    found = await _need_titles(client, "kommun=2580&status=draft", needs["_buyer"])
    assert found == {"draft_lulea"}
    assert await _need_titles(client, "kommun=2580&status=draft") == set()


async def test_need_pages_are_stable_and_complete(client, needs):
    seen: list[int] = []
    totals = set()
    for page in range(1, 5):
        response = await client.get(f"{API}/needs?page={page}&page_size=2")
        body = response.json()
        totals.add(body["total"])
        assert len(body["items"]) <= 2
        seen.extend(item["id"] for item in body["items"])
    assert totals == {7}  # eight needs minus the draft
    assert len(seen) == len(set(seen)) == 7
    assert seen == sorted(seen, reverse=True)  # newest first
    again = [item["id"] for item in (await client.get(f"{API}/needs?page_size=7")).json()["items"]]
    assert again == seen


async def test_filtered_total_counts_all_pages(client, needs):
    response = await client.get(f"{API}/needs?lan=25&page_size=1&page=2")
    body = response.json()
    assert body["total"] == 4
    assert len(body["items"]) == 1
    beyond = (await client.get(f"{API}/needs?lan=25&page_size=1&page=9")).json()
    assert beyond["items"] == [] and beyond["total"] == 4


# --- suppliers ----------------------------------------------------------------------------------


@pytest.fixture
async def suppliers(client, admin) -> dict[str, int]:
    """Suppliers with different service areas; name -> id."""
    specs: dict[str, dict[str, Any]] = {
        "norrbotten": {"service_area": ["25"], "cpv_codes": ["55520000"]},
        "whole_country": {"service_area": ["SE"], "cpv_codes": ["90910000"]},
        "stockholm_city": {"service_area": ["0180"], "cpv_codes": ["55524000", "90911200"]},
        "lulea_inactive": {"service_area": ["2580"], "cpv_codes": ["55521200"], "active": False},
        "mixed": {"service_area": ["01", "2081"], "cpv_codes": ["60000000"]},
        "boden_only": {"service_area": ["2582"], "cpv_codes": []},
    }
    ids: dict[str, int] = {}
    for name, overrides in specs.items():
        response = await client.post(
            f"{API}/suppliers",
            json=supplier_body(new_org_number(), name=name, **overrides),
            headers=admin,
        )
        assert response.status_code == 201, response.text
        ids[name] = response.json()["id"]
    return ids


SUPPLIER_FILTERS = [
    # A supplier serves a kommun it lists, a kommun in a län it lists, or all with SE.
    ("kommun=2580", {"norrbotten", "whole_country", "lulea_inactive"}),
    ("kommun=2582", {"norrbotten", "whole_country", "boden_only"}),
    ("kommun=0180", {"whole_country", "stockholm_city", "mixed"}),
    ("kommun=0114", {"whole_country", "mixed"}),
    ("kommun=2081", {"whole_country", "mixed"}),
    ("kommun=1880", {"whole_country"}),
    ("kommun=2580&active=true", {"norrbotten", "whole_country"}),
    # A län filter finds who serves at least part of it.
    ("lan=25", {"norrbotten", "whole_country", "lulea_inactive", "boden_only"}),
    ("lan=01", {"whole_country", "stockholm_city", "mixed"}),
    ("lan=20", {"whole_country", "mixed"}),
    ("lan=09", {"whole_country"}),
    ("cpv=5552", {"norrbotten", "stockholm_city", "lulea_inactive"}),
    ("cpv=55520000", {"norrbotten", "stockholm_city", "lulea_inactive"}),
    ("cpv=55524000-9", {"stockholm_city"}),
    ("cpv=9091", {"whole_country", "stockholm_city"}),
    ("cpv=60", {"mixed"}),
    ("active=false", {"lulea_inactive"}),
    ("active=true&lan=25&cpv=5552", {"norrbotten"}),
    ("q=stockholm", {"stockholm_city"}),
]


async def test_supplier_filters(client, suppliers):
    mismatches = []
    for query, expected in SUPPLIER_FILTERS:
        response = await client.get(f"{API}/suppliers?{query}&page_size=100")
        assert response.status_code == 200, (query, response.text)
        page = response.json()
        found = {item["name"] for item in page["items"]}
        if found != expected or page["total"] != len(expected):
            mismatches.append((query, sorted(found), sorted(expected), page["total"]))
    assert not mismatches, mismatches


async def test_supplier_pages_are_in_id_order_and_complete(client, suppliers):
    seen: list[int] = []
    for page in (1, 2, 3, 4):
        body = (await client.get(f"{API}/suppliers?page={page}&page_size=2")).json()
        assert body["total"] == 6
        seen.extend(item["id"] for item in body["items"])
    assert seen == sorted(suppliers.values())


async def test_a_listing_counts_at_most_a_thousand_and_says_when_there_are_more(client, keys, db):
    buyer, _ = await keys.make("buyer", "Stor kommun")
    # 1,003 open needs in Luleå and 2 in Boden, written directly: the API would take minutes.
    await db.execute(
        """
        INSERT INTO needs (buyer_id, title, description, kommun)
        SELECT $1, 'Behov ' || g, '', CASE WHEN g <= 2 THEN '2582' ELSE '2580' END
        FROM generate_series(1, 1005) g
        """,
        buyer,
    )
    first = (await client.get(f"{API}/needs?page_size=100")).json()
    assert first["total"] == 1000 and first["total_exact"] is False
    assert len(first["items"]) == 100
    last_counted = (await client.get(f"{API}/needs?page_size=100&page=10")).json()
    assert len(last_counted["items"]) == 100
    past = (await client.get(f"{API}/needs?page_size=100&page=11")).json()
    assert past["items"] == [] and past["total"] == 1000 and past["total_exact"] is False
    narrowed = (await client.get(f"{API}/needs?kommun=2582")).json()
    assert narrowed["total"] == 2 and narrowed["total_exact"] is True
    assert [n["title"] for n in narrowed["items"]] == ["Behov 2", "Behov 1"]
