"""E-mail digests through a real SMTP server on loopback (aiosmtpd): what they list, and that
they come no more often than the supplier chose."""

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
    Town,
    free_port,
    notify_settings,
    post_need,
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

    def to(self, address: str) -> list[Message]:
        return [message for rcpt, message in self.messages if address in rcpt]


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    """An SMTP server on loopback; yields its mailbox and port."""
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def mailing(settings: Settings, mailbox: tuple[Mailbox, int]) -> Settings:
    """Settings of a worker that sends e-mail through the test server."""
    return msgspec.structs.replace(
        settings, smtp_host="127.0.0.1", smtp_port=mailbox[1], smtp_security="none"
    )


async def _set_email(client: Any, town: Town, address: str) -> None:
    response = await client.patch(
        f"{API}/suppliers/{town.supplier.supplier_id}",
        json={"contact_email": address},
        headers=town.supplier.headers,
    )
    assert response.status_code == 200


def _text(message: Message) -> str:
    body = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    assert body is not None
    content: str = body.get_content()
    return content


async def test_a_digest_email_lists_the_needs_with_links(
    client: Any, town: Town, mailing: Settings, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    await _set_email(client, town, "trean@example.se")
    await drain(mailing)
    need = await post_need(client, town.buyer.headers, closes_at="2099-03-01T12:00:00+01:00")
    await drain(mailing)
    [message] = box.to("trean@example.se")
    assert message["Subject"] == "1 nya upphandlingsbehov som passar er"
    assert "Städkooperativet Trean" in message["To"]
    text = _text(message)
    assert "Lokalvård av förskolor – Luleå (2580)" in text
    assert "sista dag 2099-03-01" in text
    assert f"/api/v1/needs/{need}" in text
    assert f"/api/v1/suppliers/{town.supplier.supplier_id}/notifications" in text


async def test_the_next_email_waits_for_the_chosen_frequency(
    client: Any,
    town: Town,
    mailing: Settings,
    mailbox: tuple[Mailbox, int],
    db: asyncpg.Connection,
) -> None:
    box, _ = mailbox
    await _set_email(client, town, "trean@example.se")
    await drain(mailing)
    await post_need(client, town.buyer.headers, title="Städning av förskola 1")
    await drain(mailing)
    await post_need(client, town.buyer.headers, title="Städning av förskola 2")
    await post_need(client, town.buyer.headers, title="Städning av förskola 3")
    await drain(mailing)
    assert len(box.to("trean@example.se")) == 1, "daily: one e-mail so far"
    wait = await db.fetchval(
        """
        SELECT extract(epoch FROM run_at - now()) FROM jobs
        WHERE kind = 'notification_email' AND entity_id = $1 AND state = 'queued'
        """,
        town.supplier.supplier_id,
    )
    assert 86_000 < wait <= 86_400
    # A day passes.
    await db.execute(
        "UPDATE notification_state SET last_email_at = last_email_at - interval '1 day'"
    )
    await db.execute("UPDATE jobs SET run_at = now() WHERE state = 'queued'")
    await drain(mailing)
    first, second = box.to("trean@example.se")
    assert "förskola 1" in _text(first) and "förskola 2" not in _text(first)
    assert "förskola 2" in _text(second) and "förskola 3" in _text(second)
    assert "förskola 1" not in _text(second)
    assert second["Subject"] == "2 nya upphandlingsbehov som passar er"


async def test_an_smtp_outage_delays_the_email_but_loses_nothing(
    client: Any, town: Town, mailing: Settings, db: asyncpg.Connection
) -> None:
    await _set_email(client, town, "trean@example.se")
    await drain(mailing)
    # A port nobody listens on: the send fails, the job is retried, the watermark stays.
    down = msgspec.structs.replace(mailing, smtp_port=free_port())
    await post_need(client, town.buyer.headers)
    await drain(down)
    job = await db.fetchrow(
        "SELECT state, last_error FROM jobs WHERE kind = 'notification_email' AND entity_id = $1",
        town.supplier.supplier_id,
    )
    assert job is not None and job["state"] == "queued" and job["last_error"]
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=down.smtp_port)
    controller.start()
    try:
        await db.execute("UPDATE jobs SET run_at = now() WHERE state = 'queued'")
        await drain(down)
    finally:
        controller.stop()
    assert len(box.to("trean@example.se")) == 1


async def test_without_smtp_no_email_is_queued(
    client: Any, town: Town, settings: Settings, db: asyncpg.Connection
) -> None:
    assert settings.smtp_host is None
    await drain(settings)
    await post_need(client, town.buyer.headers)
    await drain(settings)
    assert await db.fetchval("SELECT count(*) FROM notifications") == 2
    assert await db.fetchval("SELECT count(*) FROM jobs WHERE kind = 'notification_email'") == 0
