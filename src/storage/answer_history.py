"""Suppliers' recent answers as the notifier reads them: which kinds of need (CPV codes) each
said "wrong service" or "interested" to, and when (docs/trust.md)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from asfmatch.matching.feedback import PastAnswer
from asfmatch.storage.db import Connection


async def recent_answers(
    connection: Connection, supplier_ids: Sequence[int], since: datetime
) -> dict[int, list[PastAnswer]]:
    """Each supplier's "wrong service" and "interested" answers given since `since`."""
    if not supplier_ids:
        return {}
    rows = await connection.fetch(
        """
        SELECT i.supplier_id, n.cpv_codes, i.answered_at, NOT i.interested AS wrong_service
        FROM need_interest i JOIN needs n ON n.id = i.need_id
        WHERE i.supplier_id = ANY($1::bigint[]) AND i.answered_at >= $2
          AND (i.interested OR i.reason_code = 'wrong_service')
        """,
        list(supplier_ids),
        since,
    )
    found: dict[int, list[PastAnswer]] = {}
    for row in rows:
        found.setdefault(row["supplier_id"], []).append(
            PastAnswer(
                cpv_codes=tuple(row["cpv_codes"]),
                answered_at=row["answered_at"],
                wrong_service=row["wrong_service"],
            )
        )
    return found
