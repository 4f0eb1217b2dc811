"""Outcomes of needs, the follow-up rounds that ask for them, and the ASFs' own answers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import msgspec

from asfmatch.storage.db import Connection

# The job that asks one need's follow-up round (entity: the need).
FOLLOW_UP_JOB = "outcome_follow_up"
# E-mails a buyer its follow-up question (entity: the outcome_questions row).
BUYER_QUESTION_EMAIL_JOB = "outcome_question_email"
# How long after the 30-day round a late worker still asks: a question two months after the
# deadline is noise, and the window keeps the scan to one index range.
FOLLOW_UP_WINDOW = timedelta(days=60)


class AwardedSupplier(msgspec.Struct, frozen=True, kw_only=True):
    """An organisation a need was awarded to; `supplier_id` when it is an ASF on asf-match."""

    org_number: str
    name: str
    supplier_id: int | None = None


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    """The recorded result of a need."""

    need_id: int
    result: str
    awarded_to: list[AwardedSupplier]
    value_sek: int | None
    contract_start: date | None
    contract_end: date | None
    jobs: int
    training_places: int
    recorded_at: datetime


class KnownOrganisation(msgspec.Struct, frozen=True, kw_only=True):
    """An organisation on asf-match found by its number, with its ASF profile if it has one."""

    org_number: str
    name: str
    supplier_id: int | None


class FollowUpNeed(msgspec.Struct, frozen=True, kw_only=True):
    """What a follow-up round needs to know about a need, read under the need's lock."""

    id: int
    title: str
    buyer_id: int | None
    closes_at: datetime | None
    status: str
    has_outcome: bool


class OutcomeAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """An ASF's own answer: did it win a contract for the need?"""

    need_id: int
    supplier_id: int
    won: bool
    answered_at: datetime


class BuyerQuestion(msgspec.Struct, frozen=True, kw_only=True):
    """A follow-up question to a buyer, with what its e-mail says and where it goes."""

    id: int
    need_id: int
    title: str
    round_days: int
    closes_at: datetime | None
    buyer_name: str
    contact_email: str | None
    has_outcome: bool


class OpenQuestion(msgspec.Struct, frozen=True, kw_only=True):
    """A follow-up question to an organisation about a need that has no outcome yet."""

    need_id: int
    title: str
    round_days: int
    asked_at: datetime


# --- outcomes ------------------------------------------------------------------------------


async def put_outcome(
    connection: Connection,
    need_id: int,
    *,
    result: str,
    awarded_to: Sequence[AwardedSupplier],
    value_sek: int | None,
    contract_start: date | None,
    contract_end: date | None,
    jobs: int,
    training_places: int,
    recorded_by: int,
) -> Outcome:
    """Record (or replace) a need's outcome and its suppliers."""
    await connection.execute(
        """
        INSERT INTO need_outcomes (need_id, result, value_sek, contract_start, contract_end,
                                   jobs, training_places, recorded_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (need_id) DO UPDATE SET
            result = excluded.result, value_sek = excluded.value_sek,
            contract_start = excluded.contract_start, contract_end = excluded.contract_end,
            jobs = excluded.jobs, training_places = excluded.training_places,
            recorded_by = excluded.recorded_by, recorded_at = now()
        """,
        need_id,
        result,
        value_sek,
        contract_start,
        contract_end,
        jobs,
        training_places,
        recorded_by,
    )
    await connection.execute("DELETE FROM need_award_suppliers WHERE need_id = $1", need_id)
    await connection.executemany(
        """
        INSERT INTO need_award_suppliers (need_id, position, org_number, name, supplier_id)
        VALUES ($1, $2, $3, $4, $5)
        """,
        [
            (need_id, position, s.org_number, s.name, s.supplier_id)
            for position, s in enumerate(awarded_to)
        ],
    )
    found = await get_outcome(connection, need_id)
    assert found is not None
    return found


async def get_outcome(connection: Connection, need_id: int) -> Outcome | None:
    """A need's outcome, or None when none is recorded."""
    row = await connection.fetchrow(
        """
        SELECT need_id, result, value_sek, contract_start, contract_end, jobs, training_places,
               recorded_at
        FROM need_outcomes WHERE need_id = $1
        """,
        need_id,
    )
    if row is None:
        return None
    suppliers = await connection.fetch(
        """
        SELECT org_number, name, supplier_id FROM need_award_suppliers
        WHERE need_id = $1 ORDER BY position
        """,
        need_id,
    )
    return Outcome(awarded_to=[AwardedSupplier(**dict(s)) for s in suppliers], **dict(row))


async def known_organisations(
    connection: Connection, org_numbers: Sequence[str]
) -> dict[str, KnownOrganisation]:
    """Organisations on asf-match with these numbers, by number."""
    rows = await connection.fetch(
        """
        SELECT o.org_number, o.name, s.id AS supplier_id
        FROM organisations o LEFT JOIN supplier_profiles s ON s.organisation_id = o.id
        WHERE o.org_number = ANY($1::text[])
        """,
        list(org_numbers),
    )
    return {row["org_number"]: KnownOrganisation(**dict(row)) for row in rows}


# --- the ASFs' answers ---------------------------------------------------------------------


async def was_asked_or_interested(connection: Connection, need_id: int, supplier_id: int) -> bool:
    """Whether the supplier answered interested to the need or was asked about its outcome."""
    found = await connection.fetchval(
        """
        SELECT EXISTS (SELECT 1 FROM need_interest
                       WHERE need_id = $1 AND supplier_id = $2 AND interested)
            OR EXISTS (SELECT 1 FROM outcome_questions
                       WHERE need_id = $1 AND supplier_id = $2)
        """,
        need_id,
        supplier_id,
    )
    return bool(found)


async def answer(
    connection: Connection, need_id: int, supplier_id: int, won: bool
) -> OutcomeAnswer:
    """Record (or replace) an ASF's answer."""
    row = await connection.fetchrow(
        """
        INSERT INTO supplier_outcome_answers (need_id, supplier_id, won) VALUES ($1, $2, $3)
        ON CONFLICT (need_id, supplier_id) DO UPDATE SET won = excluded.won, answered_at = now()
        RETURNING need_id, supplier_id, won, answered_at
        """,
        need_id,
        supplier_id,
        won,
    )
    assert row is not None
    return OutcomeAnswer(**dict(row))


async def answers_for_need(connection: Connection, need_id: int) -> list[OutcomeAnswer]:
    """What the ASFs said about a need, in supplier order."""
    rows = await connection.fetch(
        """
        SELECT need_id, supplier_id, won, answered_at FROM supplier_outcome_answers
        WHERE need_id = $1 ORDER BY supplier_id
        """,
        need_id,
    )
    return [OutcomeAnswer(**dict(row)) for row in rows]


# --- follow-up rounds ----------------------------------------------------------------------


async def needs_due_for_follow_up(
    connection: Connection, now: datetime, rounds: Sequence[int], limit: int = 500
) -> list[int]:
    """Needs with a buyer, no outcome, and a follow-up round that is due and not handled yet
    (the latest due round counts); ascending ids. One range of needs_closes_at."""
    first, last = min(rounds), max(rounds)
    rows = await connection.fetch(
        """
        SELECT n.id FROM needs n
        WHERE n.closes_at <= $1::timestamptz - make_interval(days => $2)
          AND n.closes_at > $1::timestamptz - make_interval(days => $3) - $4::interval
          AND n.status IN ('open', 'closed') AND n.buyer_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM need_outcomes o WHERE o.need_id = n.id)
          AND NOT EXISTS (
              SELECT 1 FROM outcome_rounds r WHERE r.need_id = n.id
                AND r.round_days = CASE WHEN n.closes_at <= $1::timestamptz - make_interval(days => $3)
                                        THEN $3 ELSE $2 END)
        ORDER BY n.id LIMIT $5
        """,
        now,
        first,
        last,
        FOLLOW_UP_WINDOW,
        limit,
    )
    return [row["id"] for row in rows]


async def lock_need(connection: Connection, need_id: int) -> FollowUpNeed | None:
    """The need, locked until the transaction ends (so two workers never ask in one round)."""
    row = await connection.fetchrow(
        """
        SELECT n.id, n.title, n.buyer_id, n.closes_at, n.status,
               EXISTS (SELECT 1 FROM need_outcomes o WHERE o.need_id = n.id) AS has_outcome
        FROM needs n WHERE n.id = $1 FOR NO KEY UPDATE
        """,
        need_id,
    )
    return None if row is None else FollowUpNeed(**dict(row))


async def handle_round(connection: Connection, need_id: int, round_days: int, asked: bool) -> bool:
    """Mark a round handled; False when it already was (nothing more to do for it)."""
    found = await connection.fetchval(
        """
        INSERT INTO outcome_rounds (need_id, round_days, asked) VALUES ($1, $2, $3)
        ON CONFLICT (need_id, round_days) DO NOTHING RETURNING 1
        """,
        need_id,
        round_days,
        asked,
    )
    return found is not None


async def interested_suppliers(connection: Connection, need_id: int) -> list[tuple[int, int]]:
    """(supplier id, organisation id) of every active ASF that answered interested, ascending."""
    rows = await connection.fetch(
        """
        SELECT s.id, s.organisation_id FROM need_interest i
        JOIN supplier_profiles s ON s.id = i.supplier_id
        WHERE i.need_id = $1 AND i.interested AND s.active
        ORDER BY s.id
        """,
        need_id,
    )
    return [(row["id"], row["organisation_id"]) for row in rows]


async def record_question(
    connection: Connection,
    need_id: int,
    round_days: int,
    organisation_id: int,
    *,
    supplier_id: int | None = None,
    notification_id: int | None = None,
) -> int | None:
    """Remember who was asked in a round; the question's id, None if it was asked already."""
    question_id: int | None = await connection.fetchval(
        """
        INSERT INTO outcome_questions
            (need_id, round_days, organisation_id, supplier_id, notification_id)
        VALUES ($1, $2, $3, $4, $5) ON CONFLICT (need_id, round_days, organisation_id) DO NOTHING
        RETURNING id
        """,
        need_id,
        round_days,
        organisation_id,
        supplier_id,
        notification_id,
    )
    return question_id


async def buyer_question(connection: Connection, question_id: int) -> BuyerQuestion | None:
    """A buyer's question (not an ASF's) with its need and the buyer's contact address."""
    row = await connection.fetchrow(
        """
        SELECT q.id, q.need_id, n.title, q.round_days, n.closes_at, o.name AS buyer_name,
               o.contact_email,
               EXISTS (SELECT 1 FROM need_outcomes x WHERE x.need_id = q.need_id) AS has_outcome
        FROM outcome_questions q
        JOIN needs n ON n.id = q.need_id
        JOIN organisations o ON o.id = q.organisation_id
        WHERE q.id = $1 AND q.supplier_id IS NULL
        """,
        question_id,
    )
    return None if row is None else BuyerQuestion(**dict(row))


async def open_questions(connection: Connection, organisation_id: int) -> list[OpenQuestion]:
    """The organisation's questions about needs that still have no outcome (latest round of
    each need), newest first; for an ASF, only those it has not answered."""
    rows = await connection.fetch(
        """
        SELECT DISTINCT ON (q.need_id) q.need_id, n.title, q.round_days, q.asked_at
        FROM outcome_questions q JOIN needs n ON n.id = q.need_id
        WHERE q.organisation_id = $1
          AND NOT EXISTS (SELECT 1 FROM need_outcomes o WHERE o.need_id = q.need_id)
          AND NOT EXISTS (SELECT 1 FROM supplier_outcome_answers a
                          WHERE a.need_id = q.need_id AND a.supplier_id = q.supplier_id)
        ORDER BY q.need_id DESC, q.round_days DESC
        LIMIT 100
        """,
        organisation_id,
    )
    return [OpenQuestion(**dict(row)) for row in rows]
