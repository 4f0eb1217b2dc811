"""Webhook delivery: one job per attempt, signed per Standard Webhooks, retried on a fixed
schedule with jitter; a job whose worker died is re-sent under the same webhook-id."""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import asyncpg
import httpx
import msgspec

from asfmatch.storage import outbound, webhooks
from asfmatch.storage.db import Connection
from asfmatch.storage.jobs import Job
from asfmatch.storage.settings import Settings
from asfmatch.storage.webhooks import DeliveryTarget, signature_header
from asfmatch.workers.notifications import Notifier

log = logging.getLogger(__name__)

# Seconds before attempt 1, 2, … 10: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
# 20 h, 24 h (Standard Webhooks' recommended schedule). After the tenth failure the message fails.
RETRY_SCHEDULE = (0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
MAX_ATTEMPTS = len(RETRY_SCHEDULE)
# ±10 %: retries of many messages that failed together spread out instead of arriving together.
JITTER = 0.10
# A receiver's Retry-After is honoured up to a day, the longest step of the schedule.
MAX_RETRY_AFTER = 86400.0
# Enough of a response body to explain a failure in the delivery log.
_RESPONSE_SNIPPET = 512
USER_AGENT = "asf-match-webhooks/1"


def retry_delay(
    failed_attempt: int, retry_after: float | None = None, rng: random.Random | None = None
) -> float | None:
    """Seconds to wait after attempt `failed_attempt` (1-based) failed, or None when it was the
    last. A Retry-After (429/503) is honoured: never retry sooner than the receiver asked."""
    if failed_attempt >= MAX_ATTEMPTS:
        return None
    draw = (rng or random).random()
    delay = RETRY_SCHEDULE[failed_attempt] * (1 + JITTER * (2 * draw - 1))
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date); None if absent or odd."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


class Reply(msgspec.Struct, frozen=True, kw_only=True):
    """What one attempt got back: a status, or the error that prevented one."""

    status_code: int | None = None
    retry_after: float | None = None
    body: str = ""
    error: str = ""
    duration_ms: int = 0


class Deliverer:
    """The `webhook_delivery` job: one attempt of one message."""

    def __init__(self, settings: Settings, notifier: Notifier) -> None:
        self.settings = settings
        self.notifier = notifier
        self._tls: ssl.SSLContext | None = None

    def _tls_context(self) -> ssl.SSLContext:
        # Loading the CA bundle takes tens of milliseconds: once per process, not per attempt.
        if self._tls is None:
            self._tls = httpx.create_ssl_context()
        return self._tls

    async def run(self, pool: asyncpg.Pool, job: Job) -> None:
        """Make the attempt the job names, unless it is moot or was already recorded."""
        attempt = int(job.payload.get("attempt", 1))
        async with pool.acquire() as connection:
            target = await webhooks.delivery_target(connection, job.entity_id)
        if target is None or target.state != "pending" or not target.enabled:
            return  # endpoint deleted or disabled, or the message already settled
        if target.attempts >= attempt:
            return  # recorded by a worker that died before marking its job done
        reply = await self.send(target)
        async with pool.acquire() as connection, connection.transaction():
            await self.record(connection, target, attempt, reply)

    async def send(self, target: DeliveryTarget) -> Reply:
        """POST the message to its endpoint, signed with every valid secret, within the timeout.
        Never raises for the network's or the receiver's failures."""
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": target.webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(
                target.secrets, target.webhook_id, timestamp, target.body
            ),
        }
        timeout = self.settings.webhook_timeout_seconds
        started = time.perf_counter()

        def took() -> int:
            return round((time.perf_counter() - started) * 1000)

        try:
            async with asyncio.timeout(timeout):
                _, host, port = outbound.check_url(target.url)
                address = await outbound.resolve(
                    host, port, allow_private=self.settings.webhook_allow_private
                )
                url, host_header, extensions = outbound.pinned_request(target.url, address)
                async with httpx.AsyncClient(
                    verify=self._tls_context(),
                    trust_env=False,
                    follow_redirects=False,
                    timeout=timeout,
                ) as client:
                    request = client.build_request(
                        "POST",
                        url,
                        content=target.body.encode(),
                        headers={**headers, **host_header},
                        extensions=extensions,
                    )
                    response = await client.send(request, stream=True)
                    try:
                        snippet = await _read_some(response, _RESPONSE_SNIPPET)
                    finally:
                        await response.aclose()
        except TimeoutError:
            return Reply(error=f"no response within {timeout:g} s", duration_ms=took())
        except outbound.Refused as error:
            return Reply(error=f"refused: {error}", duration_ms=took())
        except httpx.HTTPError as error:
            return Reply(error=f"{type(error).__name__}: {error}".rstrip(": "), duration_ms=took())
        return Reply(
            status_code=response.status_code,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
            body=snippet,
            duration_ms=took(),
        )

    async def record(
        self, connection: Connection, target: DeliveryTarget, attempt: int, reply: Reply
    ) -> None:
        """Log the attempt and decide what follows: done, retry later, or disable the endpoint."""
        status = reply.status_code
        if status is not None and 200 <= status < 300:
            await self._log(connection, target, attempt, reply, "delivered", None)
            await webhooks.endpoint_succeeded(connection, target.endpoint_id)
            return
        if status == 410:
            await self._log(connection, target, attempt, reply, "gone", None)
            await self._disable(connection, target, "the endpoint answered 410 Gone")
            return
        honoured = reply.retry_after if status in (429, 503) else None
        await self._log(
            connection, target, attempt, reply, "failed", retry_delay(attempt, honoured)
        )
        limit = self.settings.webhook_disable_after_days * 86400
        if await webhooks.endpoint_failed(connection, target.endpoint_id, limit):
            days = self.settings.webhook_disable_after_days
            await self._disable(connection, target, f"every delivery failed for {days:g} days")

    @staticmethod
    async def _log(
        connection: Connection,
        target: DeliveryTarget,
        attempt: int,
        reply: Reply,
        outcome: webhooks.Outcome,
        retry_in: float | None,
    ) -> None:
        await webhooks.record_attempt(
            connection,
            target,
            attempt,
            outcome=outcome,
            status_code=reply.status_code,
            error=reply.error,
            response_body=reply.body,
            duration_ms=reply.duration_ms,
            retry_in=retry_in,
        )

    async def _disable(self, connection: Connection, target: DeliveryTarget, reason: str) -> None:
        if await webhooks.disable_endpoint(connection, target.endpoint_id, reason):
            log.warning("webhook endpoint %s disabled: %s", target.endpoint_id, reason)
            await self.notifier.endpoint_disabled(
                connection, target.supplier_id, target.endpoint_id, target.url, reason
            )


async def _read_some(response: httpx.Response, limit: int) -> str:
    """Up to `limit` bytes of the body, so a receiver cannot make us read megabytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_raw():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit].decode("utf-8", errors="replace")
