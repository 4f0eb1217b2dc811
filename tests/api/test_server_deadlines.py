"""The HTTP server closes requests that never finish: headers or a body sent a byte at a time
get 408 and a closed connection once their deadline passes, while ordinary requests (also on
a kept-alive connection) are served as before."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import msgspec
import pytest
import uvicorn

from asfmatch.api.app import create_app
from asfmatch.api.server import server_config
from asfmatch.storage.settings import Settings

# Far longer than the deadlines below: reaching it means the server kept the connection.
GIVE_UP = 15.0


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[tuple[str, int]]:
    """The API behind the production server configuration, with short deadlines."""
    quick = msgspec.structs.replace(settings, header_timeout_seconds=0.6, body_timeout_seconds=0.6)
    config = server_config(create_app(quick), quick, host="127.0.0.1", port=0)
    instance = uvicorn.Server(config)
    serving = asyncio.create_task(instance.serve())
    while not instance.started:  # uvicorn offers a flag, not an event
        assert not serving.done(), "the server did not start"
        await asyncio.sleep(0.02)
    port = instance.servers[0].sockets[0].getsockname()[1]
    yield "127.0.0.1", port
    instance.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await serving


async def _trickle(address: tuple[str, int], first: bytes, then: bytes) -> tuple[bytes, int]:
    """Send `first`, then `then` one byte every 0.1 s; (what the server said, bytes sent)."""
    reader, writer = await asyncio.open_connection(*address)
    sent = 0
    try:
        writer.write(first)

        async def drip() -> None:
            nonlocal sent
            for byte in then:
                await asyncio.sleep(0.1)
                writer.write(bytes([byte]))
                sent += 1
                await writer.drain()

        dripping = asyncio.create_task(drip())
        try:
            async with asyncio.timeout(GIVE_UP):
                answer = await reader.read()  # until the server closes the connection
        finally:
            dripping.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await dripping
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return answer, sent


async def test_headers_sent_slowly_get_408_and_a_closed_connection(
    server: tuple[str, int],
) -> None:
    headers = b"Host: x\r\n" + b"X-Slow: " + b"a" * 300 + b"\r\n\r\n"
    answer, sent = await _trickle(server, b"GET /health HTTP/1.1\r\n", headers)
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b'"status":408' in answer
    assert sent < len(headers)  # cut off while still sending


def _post(body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"{name}: {value}" for name, value in headers.items()]
    return (
        "POST /api/v1/organisations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + "".join(line + "\r\n" for line in lines)
        + f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()


BODY = b'{"kind": "buyer", "name": "' + b"x" * 200 + b'"}'


async def test_a_body_sent_slowly_gets_408_and_a_closed_connection(
    server: tuple[str, int], admin: dict[str, str]
) -> None:
    answer, sent = await _trickle(server, _post(BODY, admin), BODY)
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert sent < len(BODY)


async def test_an_early_answer_is_not_followed_by_a_408_when_the_body_lags(
    server: tuple[str, int],
) -> None:
    # Without a key the answer (401) comes before the body; the connection still closes at
    # the body's deadline, without a second response.
    answer, sent = await _trickle(server, _post(BODY, {}), BODY)
    assert answer.startswith(b"HTTP/1.1 401 "), answer
    assert answer.count(b"HTTP/1.1") == 1
    assert sent < len(BODY)


async def test_ordinary_requests_on_a_kept_alive_connection_are_served(
    server: tuple[str, int],
) -> None:
    reader, writer = await asyncio.open_connection(*server)
    try:
        for _ in range(3):
            writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            status = await asyncio.wait_for(reader.readline(), GIVE_UP)
            assert status.startswith(b"HTTP/1.1 200 "), status
            length = 0
            while (line := await reader.readline()) != b"\r\n":
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            # A pause shorter than the deadline between requests is fine.
            await asyncio.sleep(0.2)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
