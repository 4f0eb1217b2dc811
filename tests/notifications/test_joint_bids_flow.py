"""Joint bids through the API and the worker: a need too large for any one ASF gets groups, the
buyer reads them, and each member is told its partners in the inbox, by webhook and by e-mail."""

from __future__ import annotations

import email
from collections.abc import Iterator
from email.message import Message
from email.policy import default as default_policy
from typing import Any

import asyncpg
import msgspec
import pytest
from aiosmtpd.controller import Controller
from notify_testkit import (  # noqa: F401 - fixtures, found by pytest under their names
    API,
    Receiver,
    Town,
    add_webhook,
    free_port,
    make_supplier,
    notify_settings,
    post_need,
    receiver_fixture,
    town_fixture,
)

from asfmatch.storage.settings import Settings
from testkit import drain


class Mailbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"


@pytest.fixture
def mailing(settings: Settings) -> Iterator[tuple[Settings, Mailbox]]:
    """Settings of a worker that mails through an SMTP server on loopback, and its mailbox."""
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield (
        msgspec.structs.replace(
            settings, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none"
        ),
        box,
    )
    controller.stop()


def _text(message: Message) -> str:
    body = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    assert body is not None
    content: str = body.get_content()
    return content


async def _inbox_partners(client: Any, party: Any, need_id: int) -> list[list[str]]:
    response = await client.get(
        f"{API}/suppliers/{party.supplier_id}/notifications", headers=party.headers
    )
    assert response.status_code == 200, response.text
    found: list[list[str]] = []
    for item in response.json()["items"]:
        joint = item["detail"].get("joint_bid")
        if joint and joint["need_id"] == need_id:
            found += [[p["name"] for p in g["partners"]] for g in joint["groups"]]
    return found


async def _cap(client: Any, party: Any, **changes: Any) -> None:
    response = await client.patch(
        f"{API}/suppliers/{party.supplier_id}", json=changes, headers=party.headers
    )
    assert response.status_code == 200, response.text


async def test_a_need_too_large_for_anyone_gets_groups_and_each_member_hears_of_its_partners(
    client: Any,
    keys: Any,
    town: Town,
    receiver: Receiver,
    mailing: tuple[Settings, Mailbox],
    db: asyncpg.Connection,
) -> None:
    settings, mailbox = mailing
    await _cap(client, town.supplier, max_contract_value_sek=1_000_000)
    await _cap(client, town.other_supplier, max_contract_value_sek=800_000)
    await add_webhook(client, town.supplier, receiver)
    await drain(settings)
    need = await post_need(client, town.buyer.headers, estimated_value_sek=1_500_000)
    await drain(settings)

    # Nobody alone: the match list is empty, the pair is suggested.
    assert await db.fetchval("SELECT count(*) FROM matches WHERE need_id = $1", need) == 0
    response = await client.get(f"{API}/needs/{need}/joint-bids")
    assert response.status_code == 200, response.text
    groups = response.json()["groups"]
    assert len(groups) == 1
    group = groups[0]
    assert {m["supplier_id"] for m in group["members"]} == {
        town.supplier.supplier_id,
        town.other_supplier.supplier_id,
    }
    assert group["covers"] == ["value"]
    assert group["combined_value_sek"] == 1_800_000
    assert group["summary"] == "together 1.8 MSEK ≥ 1.5 MSEK"
    assert group["weakest_score"] == min(m["score"] for m in group["members"])

    # Each member is told, naming the other.
    assert await _inbox_partners(client, town.supplier, need) == [["Rent & Fint ek. för."]]
    assert await _inbox_partners(client, town.other_supplier, need) == [["Städkooperativet Trean"]]
    # The webhook carries the partners (names and ids, no contact details).
    delivery = (await receiver.wait_for(1))[-1]
    data = delivery.payload["data"]
    assert data["need_ids"] == [need]
    assert [p["name"] for p in data["joint_bid"]["groups"][0]["partners"]] == [
        "Rent & Fint ek. för."
    ]
    assert b"@" not in delivery.body
    # And the e-mail digest says so in Swedish.
    texts = [_text(message) for _, message in mailbox.messages]
    assert any(
        "Ni kan lämna anbud tillsammans med Rent & Fint ek. för." in text
        and "tillsammans 1,8 MSEK ≥ 1,5 MSEK" in text
        for text in texts
    ), texts

    # The member may answer; the buyer sees it as for any notified need.
    inbox = await client.get(
        f"{API}/suppliers/{town.supplier.supplier_id}/notifications",
        headers=town.supplier.headers,
    )
    notification_id = inbox.json()["items"][0]["id"]
    answered = await client.post(
        f"{API}/suppliers/{town.supplier.supplier_id}/notifications/{notification_id}/answer",
        json={"interest": "interested", "reason": "Gärna tillsammans"},
        headers=town.supplier.headers,
    )
    assert answered.status_code in (200, 201), answered.text


async def test_an_asf_that_opted_out_is_neither_suggested_nor_told(
    client: Any, keys: Any, town: Town, settings: Settings, db: asyncpg.Connection
) -> None:
    third = await make_supplier(client, keys, "Fönsterputs Norr", max_contract_value_sek=700_000)
    await _cap(client, town.supplier, max_contract_value_sek=900_000)
    await _cap(client, town.other_supplier, max_contract_value_sek=800_000, joint_bids=False)
    await drain(settings)
    need = await post_need(client, town.buyer.headers, estimated_value_sek=1_500_000)
    await drain(settings)
    groups = (await client.get(f"{API}/needs/{need}/joint-bids")).json()["groups"]
    assert [{m["supplier_id"] for m in g["members"]} for g in groups] == [
        {town.supplier.supplier_id, third.supplier_id}
    ]
    assert await _inbox_partners(client, town.other_supplier, need) == []
    told = await db.fetchval(
        "SELECT count(*) FROM notified_needs WHERE need_id = $1 AND supplier_id = $2",
        need,
        town.other_supplier.supplier_id,
    )
    assert told == 0
    # Opting out later hides the groups it is in at once.
    await _cap(client, third, joint_bids=False)
    assert (await client.get(f"{API}/needs/{need}/joint-bids")).json()["groups"] == []


async def test_no_groups_when_one_asf_can_deliver_alone(
    client: Any, town: Town, settings: Settings
) -> None:
    await _cap(client, town.supplier, max_contract_value_sek=2_000_000)
    await _cap(client, town.other_supplier, max_contract_value_sek=800_000)
    await drain(settings)
    need = await post_need(client, town.buyer.headers, estimated_value_sek=1_500_000)
    await drain(settings)
    assert (await client.get(f"{API}/needs/{need}/joint-bids")).json() == {
        "need_id": need,
        "groups": [],
    }


async def test_a_joint_procurement_matches_only_asfs_serving_every_kommun(
    client: Any, keys: Any, town: Town, settings: Settings, db: asyncpg.Connection
) -> None:
    # Luleå and Boden (25) are served by the town's co-ops; Piteå only by a third.
    both = await make_supplier(client, keys, "Hela Norrbotten Städ", service_area=["2580", "2582"])
    lulea = await make_supplier(client, keys, "Luleå Städ", service_area=["2580"])
    await _cap(client, town.supplier, service_area=["2582"])
    await _cap(client, town.other_supplier, service_area=["2584"])
    await drain(settings)
    response = await client.post(
        f"{API}/needs",
        json={
            "title": "Lokalvård av förskolor",
            "description": "Städning och lokalvård av förskolor i Luleå och Boden.",
            "cpv_codes": ["90919200"],
            "kommuner": ["2580", "2582"],
        },
        headers=town.buyer.headers,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["kommun"] == "2580" and created["kommuner"] == ["2580", "2582"]
    await drain(settings)
    listed = await db.fetch(
        "SELECT supplier_id FROM matches WHERE need_id = $1 AND in_need_list", created["id"]
    )
    assert {row["supplier_id"] for row in listed} == {both.supplier_id}
    # Listing by either kommun finds it.
    for kommun in ("2580", "2582"):
        found = await client.get(f"{API}/needs", params={"kommun": kommun})
        assert created["id"] in [item["id"] for item in found.json()["items"]]
    # One kommun of it changed by `kommun` alone makes it a single-kommun need again.
    changed = await client.patch(
        f"{API}/needs/{created['id']}", json={"kommun": "2580"}, headers=town.buyer.headers
    )
    assert changed.json()["kommuner"] == ["2580"]
    await drain(settings)
    listed = await db.fetch(
        "SELECT supplier_id FROM matches WHERE need_id = $1 AND in_need_list", created["id"]
    )
    assert {row["supplier_id"] for row in listed} == {both.supplier_id, lulea.supplier_id}


async def test_kommun_and_kommuner_are_checked_with_the_field_named(
    client: Any, town: Town
) -> None:
    base = {"title": "Städning", "description": "Städning"}
    cases = [
        ({}, "kommun"),
        ({"kommuner": ["2580", "9999"]}, "kommuner[1]"),
        ({"kommun": "2580", "kommuner": ["2582"]}, "kommuner"),
        ({"kommuner": []}, "kommuner"),
    ]
    for extra, field in cases:
        response = await client.post(
            f"{API}/needs", json={**base, **extra}, headers=town.buyer.headers
        )
        assert response.status_code in (400, 422), (extra, response.text)
        assert field in response.text, (extra, response.text)
