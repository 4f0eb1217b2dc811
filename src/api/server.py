"""The HTTP server around the app: uvicorn with deadlines for a request's headers and body, and
without uvicorn's own trust in X-Forwarded-For (the rate limiter decides whom to trust)."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState
from uvicorn.supervisors import Multiprocess

from asfmatch.storage.settings import Settings

_TIMEOUT_BODY = (
    b'{"status":408,"title":"Request timeout",'
    b'"detail":"the request did not arrive in time; send it again"}'
)
_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: application/problem+json\r\n"
    b"connection: close\r\n"
    b"content-length: " + str(len(_TIMEOUT_BODY)).encode() + b"\r\n\r\n" + _TIMEOUT_BODY
)


def freeze_startup_objects() -> None:
    """Exempt everything built before the first request from the cyclic garbage collector
    (an on_startup hook of the served app: one call per server process)."""
    # Modules, reference data and the app are ~150,000 tracked objects that live as long as the
    # process. In the collector's oldest generation, every full collection walks them all: a
    # pause of 50-150 ms, every few seconds under load, in which the process answers nothing
    # (the p99 of POST /needs). Frozen, a full collection walks only what came after.
    gc.collect()
    gc.freeze()


class ServerConfig(uvicorn.Config):
    """uvicorn's configuration plus the request deadlines (an instance attribute each, so they
    travel with the configuration into `--workers` processes)."""

    def __init__(
        self, app: Any, *, header_timeout: float, body_timeout: float, **options: Any
    ) -> None:
        super().__init__(app, **options)
        self.header_timeout = header_timeout
        self.body_timeout = body_timeout


class TimelyProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol, but a request must deliver its headers within
    `header_timeout` seconds (counted from the connection or the previous response) and its
    body within `body_timeout` seconds of the headers; otherwise 408 and the connection closes.
    uvicorn alone resets its keep-alive timer on every byte, so a client sending one header
    byte a second holds a connection (and a file descriptor) for as long as it likes."""

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.header_timeout = float(getattr(config, "header_timeout", 10.0))
        self.body_timeout = float(getattr(config, "body_timeout", 30.0))
        self._deadline: asyncio.TimerHandle | None = None
        # When the request in progress (or the next one's headers) is due; None: nothing is.
        self._due: float | None = None
        self._body_pending = False

    def _arm(self, seconds: float) -> None:
        # Arming happens twice per request, so it only moves a due time: the one timer of the
        # connection, when it fires early, waits again until the current due time.
        due = self.loop.time() + seconds
        self._due = due
        pending = self._deadline
        if pending is not None and pending.when() > due:
            pending.cancel()
            pending = None
        if pending is None:
            self._deadline = self.loop.call_at(due, self._deadline_passed)

    def _disarm(self) -> None:
        self._due = None

    def _deadline_passed(self) -> None:
        self._deadline = None
        due = self._due
        if due is None:
            return
        if self.loop.time() < due:
            self._deadline = self.loop.call_at(due, self._deadline_passed)
            return
        self._too_slow()

    def _too_slow(self) -> None:
        self._due = None
        if self.transport.is_closing():
            return
        answered = self.cycle is not None and self.cycle.response_started
        if not (self._body_pending and answered):
            # Nothing said yet on this request (or waiting for the next one's headers).
            self.transport.write(_TIMEOUT_RESPONSE)
            if self.cycle is not None and not self.cycle.response_complete:
                # The app, if it runs, must not answer on a connection already answered: it
                # sees the client gone.
                self.cycle.disconnected = True
                self.cycle.message_event.set()
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        super().connection_lost(exc)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()
        headers = dict(self.headers)
        length = headers.get(b"content-length", b"0").strip()
        if (length and length != b"0") or b"transfer-encoding" in headers:
            self._body_pending = True
            self._arm(self.body_timeout)

    def on_message_complete(self) -> None:
        self._body_pending = False
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline and not self._body_pending:
            # The next request's headers are due within the deadline too (an idle connection
            # is closed sooner by the keep-alive timeout). A body still arriving after an early
            # answer (401, 413) keeps its own deadline.
            self._arm(self.header_timeout)


def server_config(
    app: Any,
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int = 1,
    graceful_shutdown: float = 2.0,
) -> ServerConfig:
    """The uvicorn configuration every entry point uses (serve, demo, tests)."""
    return ServerConfig(
        app,
        header_timeout=settings.header_timeout_seconds,
        body_timeout=settings.body_timeout_seconds,
        host=host,
        port=port,
        workers=workers,
        http=TimelyProtocol,
        # uvicorn would trust X-Forwarded-For from 127.0.0.1 by default; the client address is
        # worked out by the app instead, trusting only ASFMATCH_TRUSTED_PROXIES.
        proxy_headers=False,
        timeout_keep_alive=5,
        # Open live streams must not hold a shutdown up.
        timeout_graceful_shutdown=graceful_shutdown,
        log_level="warning",
    )


def run(config: ServerConfig) -> None:
    """Serve until stopped: in this process, or in `config.workers` processes."""
    server = uvicorn.Server(config)
    if config.workers > 1:
        socket = config.bind_socket()
        Multiprocess(config, sockets=[socket]).run()
    else:
        server.run()
