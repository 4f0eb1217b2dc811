"""Whom the rate limits count: the real client (X-Forwarded-For only from configured proxies),
the organisation behind every key it holds (with a cap on keys), and still while Redis is
down (per process)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import msgspec
import pytest
import uvicorn
from api_testkit import API, assert_problem, away_from_window_edge
from litestar.testing import AsyncTestClient

from asfmatch.api.app import create_app
from asfmatch.api.client_address import client_address, parse_networks
from asfmatch.api.server import server_config
from asfmatch.storage.organisations import create_api_key
from asfmatch.storage.settings import Settings, SettingsError

Served = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def served(settings: Settings) -> Served:
    """`async with served(rate_limit_per_address=3) as http:` the API behind the production
    server configuration on a loopback port, so the client address is a real peer address."""

    @asynccontextmanager
    async def serve(**changes: Any) -> AsyncIterator[httpx.AsyncClient]:
        changed = msgspec.structs.replace(settings, **changes)
        instance = uvicorn.Server(
            server_config(create_app(changed), changed, host="127.0.0.1", port=0)
        )
        serving = asyncio.create_task(instance.serve())
        try:
            while not instance.started:  # uvicorn offers a flag, not an event
                assert not serving.done(), "the server did not start"
                await asyncio.sleep(0.02)
            port = instance.servers[0].sockets[0].getsockname()[1]
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                yield http
        finally:
            instance.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await serving

    return serve


async def test_a_rotating_forwarded_for_from_an_untrusted_peer_meets_the_address_limit(
    served: Served,
) -> None:
    await away_from_window_edge()
    async with served(rate_limit_per_address=5) as http:
        statuses = [
            (
                await http.get(
                    f"{API}/regions/25", headers={"X-Forwarded-For": f"203.0.113.{number}"}
                )
            ).status_code
            for number in range(10)
        ]
    assert statuses == [200] * 5 + [429] * 5


async def test_a_trusted_proxy_names_the_client_each_with_its_own_limit(served: Served) -> None:
    await away_from_window_edge()
    async with served(rate_limit_per_address=2, trusted_proxies=("127.0.0.1/32",)) as http:

        async def get(client: str) -> int:
            headers = {"X-Forwarded-For": f"{client}, 127.0.0.1"}
            return (await http.get(f"{API}/regions/25", headers=headers)).status_code

        first = [await get("198.51.100.7") for _ in range(3)]
        second = [await get("198.51.100.8") for _ in range(2)]
    assert first == [200, 200, 429]
    assert second == [200, 200]


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("127.0.0.1", "203.0.113.9", [], "127.0.0.1"),  # nobody trusted: the header is ignored
        ("192.0.2.1", "203.0.113.9", ["10.0.0.0/8"], "192.0.2.1"),  # peer not a proxy
        ("10.1.2.3", "203.0.113.9", ["10.0.0.0/8"], "203.0.113.9"),
        ("10.1.2.3", "1.1.1.1, 203.0.113.9, 10.9.9.9", ["10.0.0.0/8"], "203.0.113.9"),
        ("10.1.2.3", "garbage, 203.0.113.9", ["10.0.0.0/8"], "203.0.113.9"),
        ("10.1.2.3", "203.0.113.9, garbage", ["10.0.0.0/8"], "10.1.2.3"),
        ("10.1.2.3", "10.4.4.4, 10.5.5.5", ["10.0.0.0/8"], "10.4.4.4"),
        ("10.1.2.3", "[2001:db8::1]:443", ["10.0.0.0/8"], "2001:db8::1"),
        ("10.1.2.3", "203.0.113.9:5000", ["10.0.0.0/8"], "203.0.113.9"),
        ("10.1.2.3", None, ["10.0.0.0/8"], "10.1.2.3"),
        ("::1", "203.0.113.9", ["::1/128"], "203.0.113.9"),
        ("testclient", "203.0.113.9", ["10.0.0.0/8"], "testclient"),
    ],
)
def test_the_client_address_rule(
    peer: str, forwarded: str | None, trusted: list[str], expected: str
) -> None:
    assert client_address(peer, forwarded, parse_networks(trusted)) == expected


def test_a_bad_trusted_proxy_entry_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="ASFMATCH_TRUSTED_PROXIES"):
        Settings.from_env({"ASFMATCH_TRUSTED_PROXIES": "10.0.0.0/8, proxy.local"})
    parsed = Settings.from_env({"ASFMATCH_TRUSTED_PROXIES": "10.0.0.0/8, ::1"})
    assert parsed.trusted_proxies == ("10.0.0.0/8", "::1")


async def test_every_key_of_an_organisation_shares_its_limit(app_client, keys, db) -> None:
    await away_from_window_edge()
    organisation_id, first = await keys.make("buyer")
    _, secret = await create_api_key(db, organisation_id, "second")
    second = {"Authorization": f"Bearer {secret}"}
    _, other = await keys.make("buyer")
    async with app_client(rate_limit_per_address=1_000, rate_limit_per_organisation=3) as client:
        statuses = [
            (await client.get(f"{API}/me", headers=headers)).status_code
            for headers in (first, second, first, second, other)
        ]
    # The fourth call is the organisation's fourth, whichever key it used; another
    # organisation is unaffected.
    assert statuses == [200, 200, 200, 429, 200]


async def test_an_organisation_holds_at_most_the_configured_number_of_keys(
    app_client, keys
) -> None:
    organisation_id, headers = await keys.make("buyer")  # holds one key
    url = f"{API}/organisations/{organisation_id}/keys"
    async with app_client(max_api_keys_per_organisation=3) as client:
        created = [(await client.post(url, headers=headers)).status_code for _ in range(2)]
        refused = await client.post(url, headers=headers)
        key_id = (await client.get(url, headers=headers)).json()[0]["id"]
        revoked = await client.delete(f"{url}/{key_id}", headers=headers)
        again = await client.post(url, headers=headers)
    assert created == [201, 201]
    body = assert_problem(refused, 409)
    assert "at most 3" in body["detail"]
    assert revoked.status_code == 200
    assert again.status_code == 201


async def test_concurrent_key_creations_do_not_pass_the_cap_together(app_client, keys, db) -> None:
    organisation_id, headers = await keys.make("buyer")
    url = f"{API}/organisations/{organisation_id}/keys"
    async with app_client(max_api_keys_per_organisation=4) as client:
        replies = await asyncio.gather(*(client.post(url, headers=headers) for _ in range(8)))
    assert sorted(reply.status_code for reply in replies) == [201] * 3 + [409] * 5
    active = await db.fetchval(
        "SELECT count(*) FROM api_keys WHERE organisation_id = $1 AND revoked_at IS NULL",
        organisation_id,
    )
    assert active == 4


async def test_limits_still_hold_while_redis_is_unavailable(settings: Settings) -> None:
    await away_from_window_edge()
    down = msgspec.structs.replace(
        settings,
        redis_url="unix:///nonexistent/redis.sock",
        redis_timeout=0.1,
        rate_limit_per_address=3,
    )
    async with AsyncTestClient(app=create_app(down)) as client:
        responses = [await client.get(f"{API}/regions/25") for _ in range(4)]
    assert [response.status_code for response in responses] == [200, 200, 200, 429]
    assert_problem(responses[3], 429)
