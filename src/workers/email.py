"""E-mail digests: what a supplier was told since its last e-mail, sent through SMTP at most as
often as its digest frequency allows."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

import aiosmtplib
import asyncpg

from asfmatch.reference.regions import kommuner, lan
from asfmatch.storage import jobs, notifications, outcomes
from asfmatch.storage.jobs import Job
from asfmatch.storage.notifications import FREQUENCY_SECONDS, Notification
from asfmatch.storage.outcomes import BuyerQuestion
from asfmatch.storage.settings import Settings

log = logging.getLogger(__name__)

# At most this many notifications per e-mail; the rest wait for the next one.
BATCH = 100

_CADENCE = {
    "immediate": "när något nytt dyker upp",
    "hourly": "högst en gång i timmen",
    "daily": "högst en gång om dagen",
    "weekly": "högst en gång i veckan",
}


def _day(moment: datetime | None) -> str:
    return "" if moment is None else moment.date().isoformat()


def compose(
    settings: Settings,
    supplier_id: int,
    name: str,
    address: str,
    frequency: str,
    items: Sequence[Notification],
) -> EmailMessage:
    """The digest as a plain-text Swedish e-mail with links into the API."""
    base = settings.public_url.rstrip("/")
    lines = [f"Hej {name}!", "", "Nytt från asf-match sedan förra utskicket:", ""]
    count = 0
    for item in items:
        if item.type == "outcome.question":
            need_id = item.detail.get("need_id")
            lines += [
                f"• Blev det ett kontrakt för ”{item.detail.get('title', '')}”? Svara vunnet "
                "eller inte vunnet, så syns det i årsrapporten:",
                f"  {base}/api/v1/suppliers/{supplier_id}/outcome-answers (need_id {need_id})",
                "",
            ]
            continue
        if item.type == "webhook.disabled":
            lines += [
                f"• Er webhook {item.detail.get('url', '')} har stängts av: "
                f"{item.detail.get('reason', '')}",
                f"  Slå på den igen: {base}/api/v1/suppliers/{supplier_id}/webhooks",
                "",
            ]
            continue
        for need in item.needs:
            count += 1
            place = kommuner().get(need.kommun)
            where = f"{place.name} ({need.kommun})" if place else need.kommun
            if need.whole_lan:
                county = lan().get(need.kommun[:2])
                where = f"hela {county.name}" if county else f"län {need.kommun[:2]}"
            closes = f", sista dag {_day(need.closes_at)}" if need.closes_at else ""
            lines += [
                f"• {need.title} – {where}, matchning {need.score:.2f}{closes}",
                f"  {base}/api/v1/needs/{need.need_id}",
            ]
            if need.notice_url:
                source = "TED" if need.source == "ted" else "annonsen"
                lines.append(f"  Från {source} ({need.buyer_name}): {need.notice_url}")
            lines += _joint_bid_lines(item.detail, need.need_id)
            lines.append("")
    lines += [
        "Svara intresserad eller inte intresserad i inkorgen, så ser köparen vilka som vill:",
        f"{base}/api/v1/suppliers/{supplier_id}/notifications",
        "",
        f"Ni får det här brevet {_CADENCE.get(frequency, '')}. Ändra era val här:",
        f"{base}/api/v1/suppliers/{supplier_id}/notification-preferences",
    ]
    message = EmailMessage()
    message["From"] = settings.email_from
    message["To"] = formataddr((name, address))
    subject = (
        f"{count} nya upphandlingsbehov som passar er" if count else "Meddelande från asf-match"
    )
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="asf-match")
    message.set_content("\n".join(lines))
    return message


def compose_buyer_question(settings: Settings, question: BuyerQuestion) -> EmailMessage:
    """The follow-up question to a buyer as a plain-text Swedish e-mail (English below it),
    linking to the need's outcome form."""
    base = settings.public_url.rstrip("/")
    form = f"{base}/behov/{question.need_id}/utfall"
    closed = _day(question.closes_at)
    lines = [
        f"Hej {question.buyer_name}!",
        "",
        f"Sista dag för ”{question.title}” var {closed}, för {question.round_days} dagar sedan.",
        "Blev det ett kontrakt? Registrera utfallet – vem som fick uppdraget, värdet, perioden",
        "och de jobb och praktikplatser det ger – så syns det i årsrapporten:",
        f"  {form}",
        "",
        f"Via API: PUT {base}/api/v1/needs/{question.need_id}/outcome",
        "",
        "---",
        f"The closing date of “{question.title}” was {closed}, {question.round_days} days ago.",
        "Was a contract signed? Record the outcome (who won, value, period, jobs and training",
        f"places) so it counts in the yearly report: {form}",
    ]
    message = EmailMessage()
    message["From"] = settings.email_from
    message["To"] = formataddr((question.buyer_name, question.contact_email or ""))
    message["Subject"] = f"Blev det ett kontrakt? {question.title}"
    message["Message-ID"] = make_msgid(domain="asf-match")
    message.set_content("\n".join(lines))
    return message


async def _send(settings: Settings, message: EmailMessage) -> None:
    # A failure raises: the job queue retries it.
    await aiosmtplib.send(
        message,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password,
        use_tls=settings.smtp_security == "tls",
        start_tls=settings.smtp_security == "starttls",
        timeout=30,
    )


class Mailer:
    """The `notification_email` job: one digest e-mail for one supplier."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def run(self, pool: asyncpg.Pool, job: Job) -> None:
        """Send what is due, or queue itself for when the supplier's frequency allows."""
        settings = self.settings
        if not settings.smtp_host:
            return
        supplier_id = job.entity_id
        async with pool.acquire() as connection, connection.transaction():
            chosen = await notifications.get_preferences(connection, supplier_id)
            period = FREQUENCY_SECONDS[chosen.digest_frequency]
            if period is None:
                return
            state = await notifications.lock_state(connection, supplier_id)
            if state.last_email_at is not None:
                wait = (state.last_email_at - state.now).total_seconds() + period
                if wait > 0:
                    await jobs.enqueue(
                        connection, notifications.EMAIL_JOB, supplier_id, delay_seconds=wait
                    )
                    return
            items = await notifications.on_channel_since(
                connection, supplier_id, "email", state.emailed_up_to, BATCH
            )
            address, name = await notifications.email_recipient(connection, supplier_id)
        if not items:
            return
        if address is not None:
            message = compose(settings, supplier_id, name, address, chosen.digest_frequency, items)
            # A failure raises: the job queue retries it, and the watermark has not moved.
            await _send(settings, message)
        else:
            log.info("supplier %s has no e-mail address; digest skipped", supplier_id)
        async with pool.acquire() as connection, connection.transaction():
            await notifications.mark_emailed(connection, supplier_id, items[-1].id)
            if len(items) == BATCH:
                # More were waiting: they go out in the next e-mail, not never.
                await jobs.enqueue(
                    connection, notifications.EMAIL_JOB, supplier_id, delay_seconds=period
                )

    async def run_buyer_question(self, pool: asyncpg.Pool, job: Job) -> None:
        """The `outcome_question_email` job: e-mail a buyer its follow-up question, unless
        the outcome was recorded meanwhile or the buyer has no contact address. Sent at least
        once: a worker dying after the send and before the job is marked done sends again."""
        if not self.settings.smtp_host:
            return
        async with pool.acquire() as connection:
            question = await outcomes.buyer_question(connection, job.entity_id)
        if question is None or question.has_outcome:
            return
        if question.contact_email is None:
            log.info(
                "buyer of need %s has no contact e-mail; question not mailed", question.need_id
            )
            return
        await _send(self.settings, compose_buyer_question(self.settings, question))


def _joint_bid_lines(detail: dict[str, object], need_id: int) -> list[str]:
    """Lines "Ni kan lämna anbud tillsammans med …" for a need no ASF can deliver alone."""
    joint = detail.get("joint_bid")
    if not isinstance(joint, dict) or joint.get("need_id") != need_id:
        return []
    lines: list[str] = []
    for group in joint.get("groups", []):
        partners = " och ".join(p["name"] for p in group["partners"])
        why = group.get("summary_sv") or group["summary"]
        lines.append(f"  Ni kan lämna anbud tillsammans med {partners} ({why}).")
    return lines
