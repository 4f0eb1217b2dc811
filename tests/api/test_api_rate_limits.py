"""Rate limits: counted in Redis per client address and per API key, shared by app instances."""

from __future__ import annotations

import uuid

from api_testkit import API, assert_problem, away_from_window_edge, need_body


def _limit_headers(response) -> dict[str, int]:
    return {
        name: int(response.headers[name])
        for name in ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")
    }


async def test_fourth_request_over_an_address_limit_of_three_is_429(app_client):
    await away_from_window_edge()
    async with app_client(rate_limit_per_address=3) as client:
        responses = [await client.get(f"{API}/regions/25") for _ in range(4)]
    assert [response.status_code for response in responses] == [200, 200, 200, 429]
    assert [_limit_headers(r)["ratelimit-remaining"] for r in responses] == [2, 1, 0, 0]
    limited = responses[3]
    assert_problem(limited, 429)
    headers = _limit_headers(limited)
    assert headers["ratelimit-limit"] == 3
    assert 1 <= headers["ratelimit-reset"] <= 60
    retry_after = int(limited.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert retry_after == headers["ratelimit-reset"]
    assert limited.headers["ratelimit-policy"] == "3;w=60"


async def test_limited_request_does_not_reach_the_handler(app_client, keys, db):
    await away_from_window_edge()
    _, buyer = await keys.make("buyer")
    async with app_client(rate_limit_per_address=2) as client:
        statuses = [
            (await client.post(f"{API}/needs", json=need_body(), headers=buyer)).status_code
            for _ in range(4)
        ]
    assert statuses == [201, 201, 429, 429]
    assert await db.fetchval("SELECT count(*) FROM needs") == 2
    assert await db.fetchval("SELECT count(*) FROM jobs WHERE kind = 'rank_need'") == 2


async def test_each_key_has_its_own_limit(app_client, keys):
    await away_from_window_edge()
    _, first = await keys.make("buyer")
    _, second = await keys.make("supplier")
    async with app_client(rate_limit_per_address=1_000, rate_limit_per_organisation=2) as client:
        first_statuses = [
            (await client.get(f"{API}/me", headers=first)).status_code for _ in range(3)
        ]
        second_statuses = [
            (await client.get(f"{API}/me", headers=second)).status_code for _ in range(3)
        ]
        anonymous = await client.get(f"{API}/regions/25")
    assert first_statuses == [200, 200, 429]
    assert second_statuses == [200, 200, 429]
    # Anonymous calls only count against the address, which is far from its limit.
    assert anonymous.status_code == 200


async def test_key_limit_reports_the_binding_limit(app_client, keys):
    await away_from_window_edge()
    _, buyer = await keys.make("buyer")
    async with app_client(rate_limit_per_address=100, rate_limit_per_organisation=5) as client:
        response = await client.get(f"{API}/me", headers=buyer)
        limited = [await client.get(f"{API}/me", headers=buyer) for _ in range(5)][-1]
    # The key's limit binds (4 left of 5, rather than 99 of 100).
    assert _limit_headers(response)["ratelimit-limit"] == 5
    assert _limit_headers(response)["ratelimit-remaining"] == 4
    assert_problem(limited, 429)
    assert _limit_headers(limited)["ratelimit-limit"] == 5
    assert "retry-after" in limited.headers


async def test_two_app_instances_sharing_redis_share_the_count(app_client):
    await away_from_window_edge()
    async with (
        app_client(rate_limit_per_address=3) as first,
        app_client(rate_limit_per_address=3) as second,
    ):
        statuses = [
            (await first.get(f"{API}/regions/25")).status_code,
            (await second.get(f"{API}/regions/25")).status_code,
            (await first.get(f"{API}/regions/25")).status_code,
            (await second.get(f"{API}/regions/25")).status_code,
            (await first.get(f"{API}/regions/25")).status_code,
        ]
    assert statuses == [200, 200, 200, 429, 429]


async def test_a_different_redis_prefix_counts_separately(app_client):
    await away_from_window_edge()
    async with (
        app_client(rate_limit_per_address=1) as first,
        app_client(rate_limit_per_address=1, redis_prefix=f"test:{uuid.uuid4().hex}:") as other,
    ):
        assert (await first.get(f"{API}/regions/25")).status_code == 200
        assert (await first.get(f"{API}/regions/25")).status_code == 429
        assert (await other.get(f"{API}/regions/25")).status_code == 200


async def test_health_is_not_rate_limited(app_client):
    await away_from_window_edge()
    async with app_client(rate_limit_per_address=1) as client:
        await client.get(f"{API}/regions")
        assert (await client.get(f"{API}/regions")).status_code == 429
        for _ in range(3):
            response = await client.get("/health")
            assert response.status_code == 200
            assert "ratelimit-limit" not in response.headers


async def test_successful_responses_carry_rate_limit_headers(client, settings):
    response = await client.get(f"{API}/regions/25")
    assert response.status_code == 200
    headers = _limit_headers(response)
    assert headers["ratelimit-limit"] == settings.rate_limit_per_address
    assert headers["ratelimit-remaining"] < settings.rate_limit_per_address


async def test_keyed_calls_also_meet_the_address_limit_so_made_up_keys_cannot_bypass_it(
    app_client, keys
):
    await away_from_window_edge()
    _, buyer = await keys.make("buyer")
    async with app_client(rate_limit_per_address=2, rate_limit_per_organisation=10) as client:
        statuses = [(await client.get(f"{API}/me", headers=buyer)).status_code for _ in range(4)]
    assert statuses == [200, 200, 429, 429]
