"""The buyer's follow-up question also reaches it by e-mail (its organisation's contact
address), through the real worker and a real SMTP server on loopback: queued with the
question in one transaction, linking to the outcome form, retried through an SMTP outage, and
not sent once the outcome is recorded or when the buyer has no address."""

from __future__ import annotations

import email
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from email.message import Message
from email.policy import default as default_policy
from typing import Any

import asyncpg
import msgspec
import pytest
import time_machine
from aiosmtpd.controller import Controller
from outcome_testkit import API, Party, answer_interested, make_party, post_need

from asfmatch.storage.db import create_pool
from asfmatch.storage.outcomes import BUYER_QUESTION_EMAIL_JOB
from asfmatch.storage.settings import Settings
from asfmatch.workers.notifications import Notifier
from asfmatch.workers.outcomes import FollowUps
from testkit import drain

BUYER_ADDRESS = "upphandling@lulea.example.se"


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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def mailing(settings: Settings, mailbox: tuple[Mailbox, int]) -> Settings:
    return msgspec.structs.replace(
        settings,
        smtp_host="127.0.0.1",
        smtp_port=mailbox[1],
        smtp_security="none",
        public_url="https://asf-match.example.se",
    )


@pytest.fixture
async def pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    assert settings.database_url is not None
    found = await create_pool(settings.database_url, settings)
    yield found
    await found.close()


@pytest.fixture
async def world(client: Any, keys: Any, settings: Settings) -> dict[str, Any]:
    """A buyer with a contact address, an ASF that answered interested, the need (closing
    tomorrow)."""
    buyer = await make_party(client, keys, "buyer", "Luleå kommun")
    await keys.db.execute(
        "UPDATE organisations SET contact_email = $2 WHERE id = $1", buyer.org_id, BUYER_ADDRESS
    )
    keen = await make_party(client, keys, "supplier", "Städkooperativet Norr")
    await drain(settings)
    need = await post_need(client, buyer, title="Lokalvård av förskolor i Gammelstad")
    await drain(settings)
    await answer_interested(client, keen, need["id"])
    closes_at = datetime.fromisoformat(need["closes_at"])
    return {"buyer": buyer, "keen": keen, "need": need["id"], "closes": closes_at}


def _text(message: Message) -> str:
    body = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    assert body is not None
    content: str = body.get_content()
    return content


async def _email_jobs(db: asyncpg.Connection) -> list[asyncpg.Record]:
    return await db.fetch(
        "SELECT entity_id, state, last_error FROM jobs WHERE kind = $1 ORDER BY id",
        BUYER_QUESTION_EMAIL_JOB,
    )


async def _ask_round(pool: asyncpg.Pool, settings: Settings, closes: datetime, days: int) -> None:
    with time_machine.travel(closes + timedelta(days=days, minutes=1), tick=True):
        await FollowUps(Notifier(settings)).schedule(pool)
        await drain(settings)


async def test_the_buyer_is_emailed_each_round_with_a_link_to_the_outcome_form(
    db: asyncpg.Connection,
    pool: asyncpg.Pool,
    mailing: Settings,
    mailbox: tuple[Mailbox, int],
    world: dict[str, Any],
) -> None:
    box, _ = mailbox
    await _ask_round(pool, mailing, world["closes"], 7)
    (first,) = box.to(BUYER_ADDRESS)
    assert first["Subject"] == "Blev det ett kontrakt? Lokalvård av förskolor i Gammelstad"
    body = _text(first)
    assert f"https://asf-match.example.se/behov/{world['need']}/utfall" in body
    assert "för 7 dagar sedan" in body
    assert (
        f"Sista dag för ”Lokalvård av förskolor i Gammelstad” var {world['closes'].date()}" in body
    )
    question = await db.fetchval(
        "SELECT id FROM outcome_questions WHERE need_id = $1 AND supplier_id IS NULL",
        world["need"],
    )
    assert [(job["entity_id"], job["state"]) for job in await _email_jobs(db)] == [
        (question, "done")
    ]
    # The ASF's question goes to its inbox, not to the buyer's address.
    assert all(BUYER_ADDRESS in rcpt for rcpt, _ in box.messages)
    # Day 30 asks again, and e-mails again.
    await _ask_round(pool, mailing, world["closes"], 30)
    assert ["för 7 dagar sedan" in _text(m) for m in box.to(BUYER_ADDRESS)] == [True, False]
    assert "för 30 dagar sedan" in _text(box.to(BUYER_ADDRESS)[1])


async def test_the_email_is_queued_with_the_question_or_not_at_all(
    db: asyncpg.Connection, pool: asyncpg.Pool, mailing: Settings, world: dict[str, Any]
) -> None:
    follow_ups = FollowUps(Notifier(mailing))
    moment = world["closes"] + timedelta(days=7, minutes=1)

    class Crash(Exception):
        pass

    with pytest.raises(Crash):
        async with pool.acquire() as connection, connection.transaction():
            assert await follow_ups.ask(connection, world["need"], moment) == 7
            assert (
                len(
                    await connection.fetch(
                        "SELECT 1 FROM jobs WHERE kind = $1", BUYER_QUESTION_EMAIL_JOB
                    )
                )
                == 1
            )
            raise Crash  # the worker dies before its transaction commits
    assert await _email_jobs(db) == []
    assert await db.fetchval("SELECT count(*) FROM outcome_questions") == 0
    async with pool.acquire() as connection, connection.transaction():
        assert await follow_ups.ask(connection, world["need"], moment) == 7
    assert [job["state"] for job in await _email_jobs(db)] == ["queued"]


async def test_an_smtp_outage_delays_the_question_but_loses_nothing(
    db: asyncpg.Connection, pool: asyncpg.Pool, mailing: Settings, world: dict[str, Any]
) -> None:
    down = msgspec.structs.replace(mailing, smtp_port=_free_port())
    await _ask_round(pool, down, world["closes"], 7)
    (job,) = await _email_jobs(db)
    assert job["state"] == "queued" and job["last_error"], "failed send is retried later"
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=down.smtp_port)
    controller.start()
    try:
        await db.execute("UPDATE jobs SET run_at = now() WHERE state = 'queued'")
        await drain(down)
    finally:
        controller.stop()
    assert len(box.to(BUYER_ADDRESS)) == 1
    assert [job["state"] for job in await _email_jobs(db)] == ["done"]


async def test_no_email_once_the_outcome_is_recorded_or_without_an_address(
    client: Any,
    db: asyncpg.Connection,
    pool: asyncpg.Pool,
    mailing: Settings,
    mailbox: tuple[Mailbox, int],
    world: dict[str, Any],
    keys: Any,
) -> None:
    box, _ = mailbox
    follow_ups = FollowUps(Notifier(mailing))
    async with pool.acquire() as connection, connection.transaction():
        moment = world["closes"] + timedelta(days=7, minutes=1)
        assert await follow_ups.ask(connection, world["need"], moment) == 7
    # The buyer records the outcome on the page before the worker gets to the e-mail.
    buyer: Party = world["buyer"]
    recorded = await client.put(
        f"{API}/needs/{world['need']}/outcome",
        json={"result": "not_awarded"},
        headers=buyer.headers,
    )
    assert recorded.status_code == 200, recorded.text
    await drain(mailing)
    assert box.messages == []
    assert [job["state"] for job in await _email_jobs(db)] == ["done"]
    # A buyer without a contact address is asked on its pages only.
    other = await make_party(client, keys, "buyer", "Bodens kommun")
    need = await post_need(client, other)
    await drain(mailing)
    await _ask_round(pool, mailing, datetime.fromisoformat(need["closes_at"]), 7)
    assert box.messages == []
    listed = await client.get(f"{API}/outcome-questions", headers=other.headers)
    assert [q["need_id"] for q in listed.json()] == [need["id"]]


async def test_without_smtp_no_buyer_email_is_queued(
    pool: asyncpg.Pool, settings: Settings, db: asyncpg.Connection, world: dict[str, Any]
) -> None:
    assert settings.smtp_host is None
    await _ask_round(pool, settings, world["closes"], 7)
    assert await db.fetchval("SELECT count(*) FROM outcome_questions") == 2
    assert await _email_jobs(db) == []
