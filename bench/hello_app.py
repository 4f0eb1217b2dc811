"""The ceiling for bench_api.py: a Litestar app that does nothing, served the same way."""

from __future__ import annotations

from litestar import Litestar, get


@get("/")
async def hello() -> dict[str, str]:
    """The cheapest JSON answer Litestar can give."""
    return {"hello": "world"}


app = Litestar([hello])
