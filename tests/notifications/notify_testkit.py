"""Helpers and fixtures of the notification tests: a loopback webhook receiver checking
signatures with `standardwebhooks` and a small town of buyers and cleaning co-ops."""

# The fixtures are imported by the test modules instead of living in a conftest.py: conftest.py
# files outside packages all import as `conftest` and shadow the suite's own (`from conftest
# import Keys` in tests/workers would break).

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from asfmatch.reference.org_numbers import luhn_check_digit
from asfmatch.storage.settings import Settings

API = "/api/v1"

CLEANING: dict[str, Any] = {
    "legal_form": "ekonomisk_forening",
    "description": "Vi utför städning och lokalvård av kontor, skolor och förskolor. "
    "Arbetsträning för personer långt från arbetsmarknaden.",
    "cpv_codes": ["90910000"],
    "service_area": ["25"],
    "employees": 12,
    "target_group_share": 0.6,
    "contact_email": "info@stadkoop.example",
}


def cleaning_need(**overrides: Any) -> dict[str, Any]:
    """A need every CLEANING supplier matches well (Luleå, lokalvård)."""
    return {
        "title": "Lokalvård av förskolor",
        "description": "Städning och lokalvård av tre förskolor i Luleå, daglig städning.",
        "cpv_codes": ["90919200"],
        "kommun": "2580",
        **overrides,
    }


def free_port() -> int:
    """A TCP port on loopback that nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def org_number() -> str:
    """A random organisation number with a valid check digit."""
    first_nine = f"{uuid.uuid4().int % 10**9:09d}"
    digits = first_nine + str(luhn_check_digit(first_nine))
    return f"{digits[:6]}-{digits[6:]}"


@dataclass
class Party:
    """An organisation with an API key (and a supplier profile, for suppliers)."""

    org_id: int
    headers: dict[str, str]
    supplier_id: int = 0


async def make_supplier(client: Any, keys: Any, name: str, **profile: Any) -> Party:
    """A supplier organisation with a key and a profile made through the API."""
    org_id, headers = await keys.make("supplier", name)
    number = await keys.db.fetchval("SELECT org_number FROM organisations WHERE id = $1", org_id)
    body = {"name": name, "org_number": number, **CLEANING, **profile}
    response = await client.post(f"{API}/suppliers", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return Party(org_id=org_id, headers=headers, supplier_id=int(response.json()["id"]))


async def post_need(client: Any, buyer: dict[str, str], **overrides: Any) -> int:
    """Post a cleaning need as `buyer`; returns its id."""
    response = await client.post(f"{API}/needs", json=cleaning_need(**overrides), headers=buyer)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def add_webhook(
    client: Any, party: Party, receiver: Receiver, path: str = "/hook"
) -> tuple[int, str]:
    """Register the receiver as the party's endpoint and teach it the secret."""
    response = await client.post(
        f"{API}/suppliers/{party.supplier_id}/webhooks",
        json={"url": receiver.url(path)},
        headers=party.headers,
    )
    assert response.status_code == 201, response.text
    secret = response.json()["secret"]
    receiver.secrets.append(secret)
    return int(response.json()["id"]), secret


@dataclass
class Delivery:
    """One request the receiver got, and which known secrets its signature verified with."""

    path: str
    headers: dict[str, str]
    body: bytes
    verified_by: list[str]
    at: float

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def payload(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.body)
        return loaded


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1, written on asyncio streams. Answers with the queued
    `responses` (status, extra headers) in turn, then `default`; `hang` keeps requests waiting."""

    secrets: list[str] = field(default_factory=list)
    received: list[Delivery] = field(default_factory=list)
    responses: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    default: tuple[int, dict[str, str]] = (200, {})
    hang: bool = False
    port: int = 0
    _server: asyncio.Server | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and drop open connections (the receiver is "down")."""
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
                with contextlib.suppress(ConnectionError):
                    await writer.wait_closed()
            await self._server.wait_closed()
            self._server = None

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def verified(self) -> list[Delivery]:
        return [delivery for delivery in self.received if delivery.verified_by]

    async def wait_for(self, count: int, within: float = 10.0) -> list[Delivery]:
        """Until at least `count` requests arrived."""
        deadline = time.monotonic() + within
        while len(self.received) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"receiver got {len(self.received)} of {count} requests")
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), left)
        return self.received

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            request_line = await reader.readline()
            if not request_line:
                return
            path = request_line.decode().split(" ")[1]
            headers: dict[str, str] = {}
            while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            verified_by = []
            for secret in self.secrets:
                try:
                    Webhook(secret).verify(body, headers)
                except WebhookVerificationError:
                    continue
                verified_by.append(secret)
            self.received.append(Delivery(path, headers, body, verified_by, time.monotonic()))
            self._arrived.set()
            if self.hang:
                await reader.read()  # until the client gives up or dies
                return
            status, extra = self.responses.popleft() if self.responses else self.default
            head = [f"HTTP/1.1 {status} X", "Content-Length: 2", "Connection: close"]
            head += [f"{name}: {value}" for name, value in extra.items()]
            writer.write(("\r\n".join(head) + "\r\n\r\nok").encode())
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


class EventReader:
    """Reads Server-Sent Events (and comments) from an open streaming response."""

    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.aiter_lines()
        self.comments: list[str] = []

    async def next_events(self, count: int, within: float = 10.0) -> list[dict[str, str]]:
        """The next `count` events, each a dict of its fields (id, event, data)."""
        events: list[dict[str, str]] = []
        current: dict[str, str] = {}
        async with asyncio.timeout(within):
            while len(events) < count:
                line = await anext(self.lines)
                if line == "":
                    if "data" in current:  # a block without data dispatches no event
                        events.append(current)
                    current = {}
                elif line.startswith(":"):
                    self.comments.append(line[1:].strip())
                else:
                    name, _, value = line.partition(":")
                    current[name] = value.removeprefix(" ")
        return events


@dataclass
class Town:
    """An admin, two buyers and two cleaning co-ops serving Norrbotten."""

    admin: dict[str, str]
    buyer: Party
    other_buyer: Party
    supplier: Party
    other_supplier: Party


@pytest.fixture(name="settings")
def notify_settings(settings: Settings) -> Settings:
    """The suite's settings, with loopback webhooks allowed and a quick heartbeat."""
    return msgspec.structs.replace(settings, webhook_allow_private=True, sse_heartbeat_seconds=0.5)


@pytest.fixture(name="receiver")
async def receiver_fixture() -> AsyncIterator[Receiver]:
    """A webhook receiver listening on loopback."""
    found = Receiver()
    await found.start()
    yield found
    await found.stop()


@pytest.fixture(name="town")
async def town_fixture(client: Any, keys: Any, admin: dict[str, str]) -> Town:
    """The town, built through the API (no jobs run yet)."""
    buyer_id, buyer = await keys.make("buyer", "Luleå kommun")
    other_id, other = await keys.make("buyer", "Bodens kommun")
    return Town(
        admin=admin,
        buyer=Party(buyer_id, buyer),
        other_buyer=Party(other_id, other),
        supplier=await make_supplier(client, keys, "Städkooperativet Trean"),
        other_supplier=await make_supplier(client, keys, "Rent & Fint ek. för."),
    )
