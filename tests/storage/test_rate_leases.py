"""Rate-limit leases (storage/rate_leases.py, storage/cache.py RateLimiter): a busy caller is
counted in memory between Redis calls, yet every token is a count Redis made, so processes
sharing a limit never allow more than it between them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from asfmatch.storage.cache import RateLimiter, RedisGate, create_redis
from asfmatch.storage.rate_leases import MAX_LEASE, Leases
from asfmatch.storage.settings import Settings


def test_a_new_caller_asks_for_one_token_and_leases_double_up_to_the_cap() -> None:
    leases = Leases()
    assert leases.take("org:1", 7) is None
    assert leases.wanted("org:1", 7, 100_000) == 1
    sizes, last = [], 0
    for _ in range(9):
        size = leases.wanted("org:1", 7, 100_000)
        last += size
        assert leases.granted("org:1", 7, last, size, 100_000) == last - size + 1
        while leases.take("org:1", 7) is not None:
            pass
        sizes.append(size)
    assert sizes == [1, 2, 4, 8, 16, 32, 64, MAX_LEASE, MAX_LEASE]


def test_a_lease_is_at_most_a_sixteenth_of_what_is_left_of_the_limit() -> None:
    leases = Leases()
    leases.granted("addr:x", 1, 32, 32, 100)
    assert leases.wanted("addr:x", 1, 100) == (100 - 32) // 16
    leases.granted("addr:x", 1, 90, 4, 100)
    # Near the limit every request is counted one by one.
    assert leases.wanted("addr:x", 1, 100) == 1


def test_tokens_are_handed_out_in_order_across_concurrent_grants() -> None:
    leases = Leases()
    # Two requests found no token and were each granted a lease while the other waited.
    assert leases.granted("org:1", 3, 10, 4, 1_000) == 7
    assert leases.granted("org:1", 3, 20, 5, 1_000) == 16
    taken = [leases.take("org:1", 3) for _ in range(8)]
    assert taken == [8, 9, 10, 17, 18, 19, 20, None]


def test_a_caller_past_its_limit_stays_refused_for_the_window_without_asking() -> None:
    leases = Leases()
    assert leases.granted("org:1", 5, 11, 1, 10) == 11
    assert leases.peek("org:1", 5) == 11
    assert leases.take("org:1", 5) == 11
    # A new window starts from nothing.
    assert leases.take("org:1", 6) is None


@pytest.fixture
async def gate(settings: Settings) -> AsyncIterator[RedisGate]:
    assert settings.redis_url is not None
    client = create_redis(settings.redis_url, settings)
    yield RedisGate(client, settings)
    await client.aclose()


def _counting_calls(limiter: RateLimiter) -> list[int]:
    """Count the limiter's Redis calls (its gate's `run`), passing each one on."""
    calls: list[int] = []
    run = limiter.gate.run

    async def counted(call: Any, default: Any) -> Any:
        calls.append(1)
        return await run(call, default)

    limiter.gate.run = counted  # type: ignore[method-assign]
    return calls


async def test_a_busy_caller_costs_a_redis_call_only_every_so_many_requests(
    gate: RedisGate, redis_client: aioredis.Redis
) -> None:
    limiter = RateLimiter(gate, window_seconds=3600)
    calls = _counting_calls(limiter)
    results = [await limiter.hit("org:busy", 100_000) for _ in range(500)]
    assert all(result.allowed for result in results)
    # Each request takes the next count: RateLimit-Remaining falls by one every time.
    assert [result.remaining for result in results] == list(range(99_999, 99_499, -1))
    assert len(calls) <= 7 + 500 // MAX_LEASE + 1
    keys = [key async for key in redis_client.scan_iter(match=f"{gate.prefix}ratelimit:org:busy:*")]
    counted = int(await redis_client.get(keys[0]))
    assert 500 <= counted < 500 + MAX_LEASE


async def test_two_processes_sharing_a_limit_allow_exactly_the_limit_between_them(
    gate: RedisGate,
) -> None:
    first, second = RateLimiter(gate, window_seconds=3600), RateLimiter(gate, window_seconds=3600)

    async def caller(limiter: RateLimiter) -> int:
        allowed = 0
        for _ in range(400):
            allowed += (await limiter.hit("org:shared", 500)).allowed
        return allowed

    counts = await asyncio.gather(caller(first), caller(second), caller(first), caller(second))
    assert sum(counts) == 500


async def test_a_caller_past_its_limit_is_refused_without_asking_redis(gate: RedisGate) -> None:
    limiter = RateLimiter(gate, window_seconds=3600)
    calls = _counting_calls(limiter)
    results = [await limiter.hit("addr:10.0.0.1", 5) for _ in range(8)]
    assert [result.allowed for result in results] == [True] * 5 + [False] * 3
    assert [result.remaining for result in results] == [4, 3, 2, 1, 0, 0, 0, 0]
    asked = len(calls)
    assert not (await limiter.hit("addr:10.0.0.1", 5)).allowed
    assert len(calls) == asked


async def test_a_later_limit_is_not_counted_once_an_earlier_one_refuses(gate: RedisGate) -> None:
    limiter = RateLimiter(gate, window_seconds=3600)
    limits = [("addr:10.0.0.2", 2), ("org:7", 100)]
    outcomes = [(await limiter.hit_all(limits))[0] for _ in range(4)]
    assert [[r.allowed for r in results] for results in outcomes] == [
        [True, True],
        [True, True],
        [False],
        [False],
    ]
    # The organisation's count holds only the two requests that passed the address limit: the
    # next one from another address is its third.
    (_, by_org), _ = await limiter.hit_all([("addr:10.0.0.3", 10), ("org:7", 100)])
    assert by_org.remaining == 100 - 3


async def test_while_redis_is_down_each_process_counts_on_its_own(gate: RedisGate) -> None:
    limiter = RateLimiter(gate, window_seconds=3600)
    gate._down_until = float("inf")
    results = [await limiter.hit("org:offline", 3) for _ in range(4)]
    assert [result.allowed for result in results] == [True, True, True, False]
