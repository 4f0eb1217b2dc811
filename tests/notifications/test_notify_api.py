"""The notification API: preferences, the inbox, answers and what the buyer sees, webhook
endpoint management; who may call what; every bad input a 4xx naming the field."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from notify_testkit import (  # noqa: F401 - fixtures, found by pytest under their names
    API,
    Receiver,
    Town,
    make_supplier,
    notify_settings,
    post_need,
    receiver_fixture,
    town_fixture,
)

from asfmatch.storage.settings import Settings
from testkit import drain


@pytest.fixture
async def told(client: Any, town: Town, settings: Settings) -> dict[str, int]:
    """One need, of which both co-ops were told."""
    await drain(settings)
    need = await post_need(client, town.buyer.headers)
    await drain(settings)
    inbox = await client.get(
        f"{API}/suppliers/{town.supplier.supplier_id}/notifications", headers=town.supplier.headers
    )
    return {"need": need, "notification": inbox.json()["items"][0]["id"]}


def _inbox(town: Town) -> str:
    return f"{API}/suppliers/{town.supplier.supplier_id}/notifications"


async def test_preferences_start_at_the_defaults_and_are_normalised(
    client: Any, town: Town
) -> None:
    path = f"{API}/suppliers/{town.supplier.supplier_id}/notification-preferences"
    defaults = (await client.get(path, headers=town.supplier.headers)).json()
    assert defaults == {
        "supplier_id": town.supplier.supplier_id,
        "min_score": 0.0,
        "lan": [],
        "cpv_prefixes": [],
        "channels": ["inbox", "sse", "webhook", "email"],
        "digest_frequency": "daily",
        "updated_at": None,
    }
    body = {
        "min_score": 0.3,
        "lan": ["25", "25", "20"],
        "cpv_prefixes": ["90910000-9", "9091", "555"],
        "channels": ["webhook"],
        "digest_frequency": "weekly",
    }
    saved = await client.put(path, json=body, headers=town.supplier.headers)
    assert saved.status_code == 200, saved.text
    stored = saved.json()
    assert stored["lan"] == ["25", "20"]
    assert stored["cpv_prefixes"] == ["9091", "555"], "a full code stands for its subtree"
    assert stored["channels"] == ["inbox", "webhook"], "the inbox is always on"
    assert stored["updated_at"] is not None
    assert (await client.get(path, headers=town.admin)).json() == stored


async def test_the_inbox_lists_unread_first_and_pages(
    client: Any, town: Town, settings: Settings
) -> None:
    await drain(settings)
    for number in range(3):
        await post_need(client, town.buyer.headers, title=f"Städning av förskola {number}")
        await drain(settings)
    listed = (await client.get(_inbox(town), headers=town.supplier.headers)).json()
    newest, middle, oldest = (item["id"] for item in listed["items"])
    assert newest > middle > oldest and listed["unread"] == 3
    read = await client.post(f"{_inbox(town)}/{newest}/read", headers=town.supplier.headers)
    assert read.status_code == 200 and read.json()["read_at"] is not None
    first = (await client.get(f"{_inbox(town)}?page_size=2", headers=town.supplier.headers)).json()
    assert [item["id"] for item in first["items"]] == [middle, oldest]
    assert (first["total"], first["unread"]) == (3, 2)
    second = await client.get(f"{_inbox(town)}?page_size=2&page=2", headers=town.supplier.headers)
    assert [item["id"] for item in second.json()["items"]] == [newest]
    unread = await client.get(f"{_inbox(town)}?unread_only=true", headers=town.supplier.headers)
    assert [item["id"] for item in unread.json()["items"]] == [middle, oldest]
    assert unread.json()["total"] == 2
    marked = await client.post(f"{_inbox(town)}/read-all", headers=town.supplier.headers)
    assert marked.json() == {"marked": 2}
    again = (await client.get(_inbox(town), headers=town.supplier.headers)).json()
    assert again["unread"] == 0


async def test_answers_reach_the_buyer_interested_by_name_declines_anonymously(
    client: Any, town: Town, told: dict[str, int]
) -> None:
    answered = await client.post(
        f"{_inbox(town)}/{told['notification']}/answer",
        json={"interest": "interested", "reason": "Vi har personal i Luleå."},
        headers=town.supplier.headers,
    )
    assert answered.status_code == 200, answered.text
    shown = answered.json()
    assert shown["read_at"] is not None
    assert shown["needs"][0]["interest"] == "interested"
    other_inbox = f"{API}/suppliers/{town.other_supplier.supplier_id}/notifications"
    other = (await client.get(other_inbox, headers=town.other_supplier.headers)).json()
    declined = await client.post(
        f"{other_inbox}/{other['items'][0]['id']}/answer",
        json={
            "interest": "not_interested",
            "reason_code": "too_large",
            "reason": "För stort uppdrag för oss.",
        },
        headers=town.other_supplier.headers,
    )
    assert declined.status_code == 200
    seen = await client.get(f"{API}/needs/{told['need']}/interest", headers=town.buyer.headers)
    assert seen.status_code == 200
    body = seen.json()
    assert body["told"] == 2 and body["not_interested"] == 1
    assert [s["supplier_id"] for s in body["interested"]] == [town.supplier.supplier_id]
    assert body["interested"][0]["supplier_name"] == "Städkooperativet Trean"
    assert body["interested"][0]["reason"] == "Vi har personal i Luleå."
    assert body["reasons_not_interested"] == ["För stort uppdrag för oss."]
    assert "Rent & Fint" not in seen.text, "a decline is not pinned on its supplier"
    # A changed mind replaces the answer.
    await client.post(
        f"{_inbox(town)}/{told['notification']}/answer",
        json={"interest": "not_interested", "reason_code": "too_large"},
        headers=town.supplier.headers,
    )
    after = (await client.get(f"{API}/needs/{told['need']}/interest", headers=town.admin)).json()
    assert after["interested"] == [] and after["not_interested"] == 2
    assert after["declines_by_reason"]["too_large"] == 2
    assert after["suggest_lots"] is True


async def test_a_digest_answer_names_its_need(
    client: Any, keys: Any, town: Town, settings: Settings, db: asyncpg.Connection
) -> None:
    needs = sorted(
        [
            await post_need(client, town.buyer.headers),
            await post_need(client, town.buyer.headers, title="Städning av skolor"),
        ]
    )
    await drain(settings)
    newcomer = await make_supplier(client, keys, "Nya Städarna")
    await drain(settings)
    inbox = f"{API}/suppliers/{newcomer.supplier_id}/notifications"
    [digest] = (await client.get(inbox, headers=newcomer.headers)).json()["items"]
    assert digest["type"] == "needs.digest"
    assert sorted(need["need_id"] for need in digest["needs"]) == needs
    path = f"{inbox}/{digest['id']}/answer"
    vague = await client.post(path, json={"interest": "interested"}, headers=newcomer.headers)
    assert vague.status_code == 422 and vague.json()["errors"][0]["field"] == "need_id"
    wrong = await client.post(
        path, json={"interest": "interested", "need_id": 999_999}, headers=newcomer.headers
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "need_id"
    right = await client.post(
        path, json={"interest": "interested", "need_id": needs[1]}, headers=newcomer.headers
    )
    assert right.status_code == 200
    await client.post(f"{API}/needs/{needs[0]}/close", headers=town.buyer.headers)
    closed = await client.post(
        path, json={"interest": "interested", "need_id": needs[0]}, headers=newcomer.headers
    )
    assert closed.status_code == 409


async def test_a_supplier_has_at_most_ten_endpoints(
    client: Any, town: Town, receiver: Receiver
) -> None:
    path = f"{API}/suppliers/{town.supplier.supplier_id}/webhooks"
    for number in range(10):
        created = await client.post(
            path, json={"url": receiver.url(f"/{number}")}, headers=town.supplier.headers
        )
        assert created.status_code == 201
    refused = await client.post(path, json={"url": receiver.url()}, headers=town.supplier.headers)
    assert refused.status_code == 409
    listed = await client.get(path, headers=town.supplier.headers)
    assert len(listed.json()) == 10 and "secret" not in listed.json()[0]


async def test_every_new_endpoint_admits_exactly_the_right_callers(
    client: Any,
    town: Town,
    told: dict[str, int],
    receiver: Receiver,
) -> None:
    supplier = town.supplier.supplier_id
    hooks = f"{API}/suppliers/{supplier}/webhooks"
    created = await client.post(hooks, json={"url": receiver.url()}, headers=town.admin)
    assert created.status_code == 201
    hook = f"{hooks}/{created.json()['id']}"
    note = f"{_inbox(town)}/{told['notification']}"
    supplier_side: list[tuple[str, str, dict[str, Any] | None, int]] = [
        ("GET", f"{API}/suppliers/{supplier}/notification-preferences", None, 200),
        ("PUT", f"{API}/suppliers/{supplier}/notification-preferences", {}, 200),
        ("GET", _inbox(town), None, 200),
        ("GET", note, None, 200),
        ("POST", f"{note}/read", None, 200),
        ("POST", f"{_inbox(town)}/read-all", None, 200),
        ("POST", f"{note}/answer", {"interest": "interested"}, 200),
        ("POST", hooks, {"url": receiver.url("/x")}, 201),
        ("GET", hooks, None, 200),
        ("GET", hook, None, 200),
        ("PATCH", hook, {"description": "ekonomi"}, 200),
        ("POST", f"{hook}/rotate-secret", None, 200),
        ("POST", f"{hook}/test", None, 202),
        ("GET", f"{hook}/deliveries", None, 200),
        ("DELETE", hook, None, 204),
    ]
    strangers = {
        "anonymous": ({}, 401),
        "bad key": ({"Authorization": "Bearer asfm_x_y"}, 401),
        "buyer": (town.buyer.headers, 403),
        "other supplier": (town.other_supplier.headers, 403),
    }
    for method, path, body, ok in supplier_side:
        for who, (headers, status) in strangers.items():
            response = await client.request(method, path, json=body, headers=headers)
            assert response.status_code == status, (method, path, who, response.text)
        # The owner, and for all but DELETE an admin too (DELETE only once).
        callers = (
            [town.supplier.headers] if method == "DELETE" else [town.supplier.headers, town.admin]
        )
        for headers in callers:
            response = await client.request(method, path, json=body, headers=headers)
            assert response.status_code == ok, (method, path, response.text)
    interest = f"{API}/needs/{told['need']}/interest"
    for headers, status in [
        ({}, 401),
        (town.supplier.headers, 403),
        (town.other_buyer.headers, 403),
        (town.buyer.headers, 200),
        (town.admin, 200),
    ]:
        assert (await client.get(interest, headers=headers)).status_code == status
    for path in (f"{API}/needs/999999/interest", f"{API}/suppliers/999999/notifications"):
        assert (await client.get(path, headers=town.admin)).status_code == 404
    other_note = f"{_inbox(town)}/999999"
    assert (await client.get(other_note, headers=town.supplier.headers)).status_code == 404


BAD_INPUT: list[tuple[str, str, dict[str, Any] | None, str]] = [
    ("PUT", "preferences", {"lan": ["99"]}, "lan[0]"),
    ("PUT", "preferences", {"lan": ["25", "2"]}, "lan[1]"),
    ("PUT", "preferences", {"lan": "25"}, "lan"),
    ("PUT", "preferences", {"cpv_prefixes": ["55x"]}, "cpv_prefixes[0]"),
    ("PUT", "preferences", {"cpv_prefixes": ["5"]}, "cpv_prefixes[0]"),
    ("PUT", "preferences", {"channels": ["sms"]}, "channels[0]"),
    ("PUT", "preferences", {"digest_frequency": "monthly"}, "digest_frequency"),
    ("PUT", "preferences", {"min_score": 1.5}, "min_score"),
    ("PUT", "preferences", {"min_score": "high"}, "min_score"),
    ("PUT", "preferences", {"colour": "blue"}, "colour"),
    ("POST", "answer", {"interest": "maybe"}, "interest"),
    ("POST", "answer", {}, "interest"),
    ("POST", "answer", {"interest": "interested", "reason": "x" * 1001}, "reason"),
    ("POST", "answer", {"interest": "interested", "need_id": "one"}, "need_id"),
    ("POST", "hooks", {}, "url"),
    ("POST", "hooks", {"url": ""}, "url"),
    ("POST", "hooks", {"url": "https://example.se/" + "x" * 2000}, "url"),
    ("POST", "hooks", {"url": "ftp://example.se/hook"}, "url"),
    ("POST", "hooks", {"url": "not a url"}, "url"),
    ("POST", "hooks", {"url": "http://user:pw@127.0.0.1/hook"}, "url"),
    ("POST", "hooks", {"url": "http://127.0.0.1:99999/hook"}, "url"),
    ("POST", "hooks", {"url": "http://nonexistent.invalid/hook"}, "url"),
    ("POST", "hooks", {"url": "http://127.0.0.1/", "description": "x" * 201}, "description"),
    ("POST", "hooks", {"url": "http://127.0.0.1/", "secret": "whsec_mine"}, "secret"),
    ("PATCH", "hook", {"enabled": "yes"}, "enabled"),
    ("PATCH", "hook", {"url": "ftp://example.se/"}, "url"),
    ("GET", "inbox?page_size=1000", None, "page_size"),
    ("GET", "inbox?unread_only=perhaps", None, "unread_only"),
]


async def test_bad_input_is_a_4xx_naming_the_field(
    client: Any, town: Town, told: dict[str, int], receiver: Receiver
) -> None:
    supplier = town.supplier.supplier_id
    hooks = f"{API}/suppliers/{supplier}/webhooks"
    created = await client.post(hooks, json={"url": receiver.url()}, headers=town.supplier.headers)
    paths = {
        "preferences": f"{API}/suppliers/{supplier}/notification-preferences",
        "answer": f"{_inbox(town)}/{told['notification']}/answer",
        "hooks": hooks,
        "hook": f"{hooks}/{created.json()['id']}",
        "inbox": _inbox(town),
    }
    for method, where, body, field in BAD_INPUT:
        base, _, query = where.partition("?")
        path = paths[base] + (f"?{query}" if query else "")
        response = await client.request(method, path, json=body, headers=town.supplier.headers)
        case = (method, where, body)
        assert 400 <= response.status_code < 500, (case, response.text)
        assert response.headers["content-type"] == "application/problem+json", case
        fields = [error["field"] for error in response.json().get("errors", [])]
        assert field in fields, (case, response.text)


async def test_malformed_json_is_a_400(client: Any, town: Town) -> None:
    response = await client.put(
        f"{API}/suppliers/{town.supplier.supplier_id}/notification-preferences",
        content=b'{"lan": [',
        headers={**town.supplier.headers, "content-type": "application/json"},
    )
    assert response.status_code == 400


async def test_the_new_endpoints_are_in_the_openapi_document(client: Any) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    for path in (
        "/api/v1/suppliers/{supplier_id}/notification-preferences",
        "/api/v1/suppliers/{supplier_id}/notifications",
        "/api/v1/suppliers/{supplier_id}/notifications/{notification_id}/answer",
        "/api/v1/suppliers/{supplier_id}/events",
        "/api/v1/needs/{need_id}/interest",
        "/api/v1/suppliers/{supplier_id}/webhooks/{endpoint_id}/rotate-secret",
        "/api/v1/suppliers/{supplier_id}/webhooks/{endpoint_id}/deliveries",
    ):
        assert path in paths, path
