"""The figures of the yearly reports: needs posted, reserved, interest, awards and what ASFs won.

A need counts in the year (Swedish time) it was posted; its outcome counts with it, whenever it
was recorded, so a year's row says what became of that year's needs. A län or buyer report
reads its needs through needs_status_lan or needs_buyer, a national one through needs_created
(or a sequential scan when the years asked cover most needs); answers and outcomes are looked
up by primary key, so a report costs in proportion to the needs it covers
(bench/bench_reports.py)."""

from __future__ import annotations

from datetime import datetime

import msgspec

from asfmatch.storage.db import Connection


class YearFigures(msgspec.Struct, frozen=True, kw_only=True):
    """Raw counts and sums of one year's needs."""

    year: int
    needs_posted: int
    reserved: int
    interested_answers: int
    awarded: int
    won_by_asf: int
    value_awarded_sek: int
    value_won_by_asf_sek: int
    jobs: int
    training_places: int


class LanFigures(msgspec.Struct, frozen=True, kw_only=True):
    """Raw counts and sums of one län's needs over a range of years."""

    lan: str
    needs_posted: int
    reserved: int
    won_by_asf: int
    value_won_by_asf_sek: int


# Per need: its interested answers and its outcome, with whether an ASF on asf-match won it.
_PER_NEED = """
    SELECT n.id, n.lan, n.reserved,
           extract(year FROM n.created_at AT TIME ZONE 'Europe/Stockholm')::int AS year,
           (SELECT count(*) FROM need_interest i
             WHERE i.need_id = n.id AND i.interested) AS interested,
           o.result, coalesce(o.value_sek, 0) AS value_sek, coalesce(o.jobs, 0) AS jobs,
           coalesce(o.training_places, 0) AS training_places,
           EXISTS (SELECT 1 FROM need_award_suppliers a
                   WHERE a.need_id = n.id AND a.supplier_id IS NOT NULL) AS asf_won
    FROM needs n LEFT JOIN need_outcomes o ON o.need_id = n.id
    WHERE n.status <> 'draft' AND n.created_at >= $1 AND n.created_at < $2
"""


def _scope(lan: str | None, buyer_id: int | None) -> tuple[str, list[object]]:
    if buyer_id is not None:
        return " AND n.buyer_id = $3", [buyer_id]
    if lan is not None:
        return " AND n.lan = $3", [lan]
    return "", []


async def yearly_figures(
    connection: Connection,
    since: datetime,
    until: datetime,
    *,
    lan: str | None = None,
    buyer_id: int | None = None,
) -> list[YearFigures]:
    """One row per year with needs posted in [since, until), nationally, in a län or of a
    buyer; years without needs are left out."""
    where, args = _scope(lan, buyer_id)
    rows = await connection.fetch(
        f"""
        WITH per_need AS ({_PER_NEED}{where})
        SELECT year, count(*) AS needs_posted,
               count(*) FILTER (WHERE reserved) AS reserved,
               coalesce(sum(interested), 0) AS interested_answers,
               count(*) FILTER (WHERE result = 'awarded') AS awarded,
               count(*) FILTER (WHERE result = 'awarded' AND asf_won) AS won_by_asf,
               coalesce(sum(value_sek) FILTER (WHERE result = 'awarded'), 0) AS value_awarded_sek,
               coalesce(sum(value_sek) FILTER (WHERE result = 'awarded' AND asf_won), 0)
                   AS value_won_by_asf_sek,
               coalesce(sum(jobs), 0) AS jobs,
               coalesce(sum(training_places), 0) AS training_places
        FROM per_need GROUP BY year ORDER BY year
        """,
        since,
        until,
        *args,
    )
    return [YearFigures(**{key: int(value) for key, value in row.items()}) for row in rows]


async def lan_figures(connection: Connection, since: datetime, until: datetime) -> list[LanFigures]:
    """One row per län with needs posted in [since, until)."""
    rows = await connection.fetch(
        f"""
        WITH per_need AS ({_PER_NEED})
        SELECT lan, count(*) AS needs_posted,
               count(*) FILTER (WHERE reserved) AS reserved,
               count(*) FILTER (WHERE result = 'awarded' AND asf_won) AS won_by_asf,
               coalesce(sum(value_sek) FILTER (WHERE result = 'awarded' AND asf_won), 0)
                   AS value_won_by_asf_sek
        FROM per_need GROUP BY lan ORDER BY lan
        """,
        since,
        until,
    )
    return [
        LanFigures(
            lan=row["lan"],
            needs_posted=int(row["needs_posted"]),
            reserved=int(row["reserved"]),
            won_by_asf=int(row["won_by_asf"]),
            value_won_by_asf_sek=int(row["value_won_by_asf_sek"]),
        )
        for row in rows
    ]
