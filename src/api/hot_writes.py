"""POST /api/v1/needs answered as soon as the request is counted, without the route handler's
machinery (routing, dependency injection, guards, signature parsing, response objects), when
the post is one the batching writer takes as it is: a body that decodes strictly as a
NeedCreate, from a buyer (or an admin naming the buyer), with fields that pass the checks and a
buyer who may publish it. That machinery was over a quarter of a post's CPU.

The need is written by the same service function the handler calls (services.needs.post_need),
so a post answered here is written exactly as the handler would write it. Anything else (no
key, a body only Litestar's lenient decoding takes or that earns its error, a refusal, an admin
naming no buyer, a body over the size limit) goes on to the handler with its body as it came,
and the handler decides again; nothing was written for it here."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.types import Receive, ReceiveMessage

from asfmatch.api.state import AppResources
from asfmatch.services import needs as service
from asfmatch.storage.organisations import Principal

# Strict: a body this decodes, Litestar's lenient decoding reads the same way.
_DECODE_NEED = msgspec.json.Decoder(service.NeedCreate).decode
# As Litestar encodes a handler's return value (a Need has no type msgspec needs help with).
_ENCODE = msgspec.json.Encoder().encode

NEEDS_PATHS = frozenset({"/api/v1/needs", "/api/v1/needs/"})


async def posted_need_body(
    app: AppResources, principal: Principal | None, body: bytes
) -> bytes | None:
    """The written need's JSON (for a 201) if this post is one the batching writer takes as it
    is; None, having written nothing, to let the handler answer."""
    if principal is None or principal.role not in ("buyer", "admin"):
        return None
    try:
        data = _DECODE_NEED(body)
    except msgspec.MsgspecError:
        return None
    need = await service.post_need(app.need_writer, principal, data)
    return None if need is None else _ENCODE(need)


async def read_body(receive: Receive, limit: int) -> tuple[bytes | None, Receive]:
    """The request's body if it arrives whole within `limit` bytes (else None), and a receive
    that hands on whatever was read, then the rest, to whoever answers instead."""
    received: list[ReceiveMessage] = []
    chunks: list[bytes] = []
    size = 0
    whole = False
    while True:
        message: Any = await receive()
        received.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > limit:
            break
        if not message.get("more_body", False):
            whole = True
            break
    body = b"".join(chunks) if whole else None

    async def replay() -> ReceiveMessage:
        if received:
            return received.pop(0)
        return await receive()

    return body, replay
